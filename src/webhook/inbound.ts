/**
 * Inbound webhooks (docs/webhooks.md): `POST /webhook/<source>/<entity>` with a vendor's record
 * in the body becomes an envelope (source.capture "webhook"), acknowledged with 202 only once
 * JetStream stored it.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SourceConfig, WebhookSourceConfig } from '../config/index.ts';
import { entitySubject, envelopeId, type Envelope, type Op } from '../envelope/envelope.ts';
import { keyToken } from '../envelope/key-token.ts';
import { HmsSyncError, errorMessage } from '../errors.ts';
import { authenticator, bearerCheck, forbidden, type Authentication } from '../http/auth.ts';
import type { RouteModule } from '../http/server.ts';
import { mapRow } from '../mapping/index.ts';
import type { JsonValue, Mapping } from '../mapping/types.ts';
import { payloadLimit } from '../nats/connection.ts';
import type { BridgeHandle } from '../runtime/bridge.ts';
import { isLosslessObject, JsonTextError, parseLosslessJson } from './json-text.ts';
import { PositionClock } from './position.ts';
import { missingFields, vendorRow } from './vendor-row.ts';

export const SIGNATURE_HEADER = 'x-hms-signature';
export const OP_HEADER = 'x-hms-op';
const OPS: ReadonlySet<string> = new Set(['c', 'u', 'd']);
const MAX_IDEMPOTENCY_KEY = 256;

/** KV bucket of used idempotency keys of one source (entries expire after its dedupeWindow). */
export function dedupeBucketName(stream: string, source: string): string {
  return `${stream.toLowerCase()}_webhook_${source}`;
}

interface Remembered {
  state: 'pending' | 'done';
  id: string;
  position: string;
  entity: string;
  at: string;
}

interface WebhookSource {
  config: SourceConfig;
  webhook: WebhookSourceConfig;
  byEntity: Map<string, Mapping>;
  seen: KV;
  clock: PositionClock;
  checkToken?: (header: string | undefined) => string | undefined;
  /** Position assignment and publish, one request at a time: stream order = position order. */
  queue: Promise<unknown>;
}

export async function webhookRoutes(bridge: BridgeHandle): Promise<RouteModule> {
  const { config, nc } = bridge;
  const sources = new Map<string, WebhookSource>();
  for (const source of config.sources) {
    if (source.kind !== 'webhook' || source.webhook === undefined) continue;
    const mappings = bridge.mappings.get(source.name) ?? [];
    const problems = mappings.filter((m) => m.key === undefined || m.key.length === 0).map((m) => `${m.file}: a webhook mapping needs key: [FIELD, ...] (a vendor record has no primary key)`);
    if (problems.length > 0) throw new HmsSyncError('MAPPING', problems.join('\n'));
    let seen: KV;
    try {
      seen = await new Kvm(nc).create(dedupeBucketName(config.nats.stream, source.name), {
        history: 1,
        replicas: config.nats.replicas,
        ttl: source.webhook.dedupeWindowMs,
      });
    } catch (error) {
      throw new HmsSyncError('NATS', `cannot open KV bucket ${dedupeBucketName(config.nats.stream, source.name)}: ${errorMessage(error)}`, { cause: error, retryable: true });
    }
    sources.set(source.name, {
      config: source,
      webhook: source.webhook,
      byEntity: new Map(mappings.map((m) => [m.entity, m])),
      seen,
      clock: new PositionClock(),
      ...(source.webhook.token !== undefined ? { checkToken: bearerCheck(source.webhook.token) } : {}),
      queue: Promise.resolve(),
    });
  }
  const js = jetstream(nc);
  const maxPayload = payloadLimit(nc) ?? 1024 * 1024;
  const httpTokens = authenticator(config.http ?? {});

  return (app: FastifyInstance) => {
    // The signature is over the raw bytes: this scope keeps the body as a Buffer, whatever
    // its content type, and parses it itself (numbers kept as text).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    app.post<{ Params: { source: string; entity: string } }>(
      '/webhook/:source/:entity',
      { config: { auth: 'none' } },
      async (request, reply) => {
        const source = sources.get(request.params.source);
        if (!source) return reply.code(404).send({ error: `no webhook source "${request.params.source}"` });
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const refusal = authenticate(source, request, raw, httpTokens);
        if (refusal !== undefined) return reply.code(401).send({ error: refusal });
        const mapping = source.byEntity.get(request.params.entity);
        if (!mapping) {
          return reply.code(404).send({ error: `source ${source.config.name} has no mapping for entity "${request.params.entity}" (entities: ${[...source.byEntity.keys()].join(', ')})` });
        }
        return receive(source, mapping, request, reply, raw, { js, prefix: config.nats.subjectPrefix, maxPayload, bridge });
      },
    );
  };
}

/**
 * The caller's bearer token: the source's own `webhook.token`, or an HTTP token (`http.tokens`)
 * scoped to the source's `webhook.role` with the webhook permission (or the admin token).
 * The HMAC signature, where the source has a secret, is required either way.
 */
function authenticate(
  source: WebhookSource,
  request: FastifyRequest,
  raw: Buffer,
  httpTokens: (header: string | undefined) => Authentication,
): string | undefined {
  const role = source.webhook.role;
  if (source.checkToken || role !== undefined) {
    const header = request.headers.authorization;
    let refusal = source.checkToken?.(header)?.replace('<http.token>', '<webhook.token>');
    if (source.checkToken === undefined || refusal !== undefined) {
      const scoped = role === undefined ? undefined : httpTokens(header);
      if (scoped !== undefined && 'principal' in scoped) {
        const { principal } = scoped;
        const denied = forbidden(principal, 'webhook') ?? (principal.admin || principal.role === role ? undefined : `token "${principal.name}" is not of role ${role}`);
        refusal = denied === undefined ? undefined : `${denied}: it may not post to webhook source ${source.config.name}`;
      } else if (source.checkToken === undefined) {
        refusal = 'missing or wrong bearer token (a token of role ' + role + ' with the webhook permission)';
      }
    }
    if (refusal !== undefined) return refusal;
  }
  if (source.webhook.secret !== undefined) {
    const header = request.headers[SIGNATURE_HEADER];
    if (typeof header !== 'string' || header === '') return `missing ${SIGNATURE_HEADER} header (sha256=<hex HMAC-SHA256 of the body>)`;
    const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
    if (!match) return `malformed ${SIGNATURE_HEADER} header: expected sha256=<64 hex digits>`;
    const expected = createHmac('sha256', source.webhook.secret).update(raw).digest();
    if (!timingSafeEqual(expected, Buffer.from(match[1]!, 'hex'))) return 'bad signature';
  }
  return undefined;
}

interface ReceiveContext {
  js: JetStreamClient;
  prefix: string;
  maxPayload: number;
  bridge: BridgeHandle;
}

async function receive(
  source: WebhookSource,
  mapping: Mapping,
  request: FastifyRequest,
  reply: FastifyReply,
  raw: Buffer,
  ctx: ReceiveContext,
): Promise<FastifyReply> {
  const idempotencyHeader = source.webhook.idempotencyHeader;
  const idempotencyKey = request.headers[idempotencyHeader];
  if (typeof idempotencyKey !== 'string' || idempotencyKey === '') return reply.code(400).send({ error: `missing ${idempotencyHeader} header` });
  if (idempotencyKey.length > MAX_IDEMPOTENCY_KEY) return reply.code(400).send({ error: `${idempotencyHeader} header longer than ${MAX_IDEMPOTENCY_KEY} characters` });
  const opHeader = request.headers[OP_HEADER] ?? 'u';
  if (typeof opHeader !== 'string' || !OPS.has(opHeader)) return reply.code(400).send({ error: `${OP_HEADER} header must be c, u or d (got ${JSON.stringify(opHeader)})` });
  const op = opHeader as Op;

  let record;
  try {
    record = parseLosslessJson(raw.toString('utf8'));
  } catch (error) {
    if (error instanceof JsonTextError) return reply.code(400).send({ error: `bad JSON body: ${error.message}` });
    throw error;
  }
  if (!isLosslessObject(record)) return reply.code(400).send({ error: 'the body must be a JSON object: the vendor record' });

  // A retry of a key already accepted is answered from memory before anything else is checked.
  const seenKey = `k.${createHash('sha256').update(idempotencyKey).digest('hex')}`;
  const earlier = await remembered(source.seen, seenKey);
  if (earlier) return answerRepeat(reply, earlier);

  const missing = missingFields(mapping, record, op === 'd');
  if (missing.length > 0) return reply.code(400).send({ error: missing.join('; ') });
  const { row, columns } = vendorRow(record);
  const keyColumns = mapping.key ?? [];
  const keyMapping: Mapping = { ...mapping, fields: mapping.fields.filter((f) => keyColumns.includes(f.from)), unmapped: 'ignore' };
  const timezone = source.config.timezone ? { defaultTimezone: source.config.timezone } : undefined;
  const mapped = mapRow(op === 'd' ? keyMapping : mapping, row, columns, keyColumns, timezone);
  if (!mapped.ok) return reply.code(400).send({ error: mapped.error });

  const token = keyToken(Object.values(mapped.key) as JsonValue[]);
  const id = envelopeId(source.config.name, `webhook:${idempotencyKey}`, mapping.table, token, op);

  const run = source.queue.then(async () => {
    const position = source.clock.next();
    const receivedAt = new Date().toISOString();
    const claim: Remembered = { state: 'pending', id, position, entity: mapping.entity, at: receivedAt };
    try {
      await source.seen.create(seenKey, JSON.stringify(claim));
    } catch {
      // Someone else claimed the key between the read above and now.
      const other = await remembered(source.seen, seenKey);
      return { repeat: other ?? claim } as const;
    }
    const envelope: Envelope = {
      id,
      op,
      entity: mapping.entity,
      key: mapped.key,
      before: null,
      after: op === 'd' ? null : mapped.after,
      source: { name: source.config.name, kind: 'webhook', table: mapping.table, capture: 'webhook', position, commitTs: receivedAt },
      mapping: mapping.hash,
      ts: new Date().toISOString(),
    };
    const payload = new TextEncoder().encode(JSON.stringify(envelope));
    if (payload.length > ctx.maxPayload) {
      await source.seen.delete(seenKey).catch(() => undefined);
      return { status: 413, error: `envelope of ${payload.length} bytes exceeds the NATS server's max_payload of ${ctx.maxPayload} bytes` };
    }
    const h = natsHeaders();
    h.set('Hms-Op', op);
    h.set('Content-Type', 'application/json');
    try {
      await ctx.js.publish(entitySubject(ctx.prefix, source.config.name, mapping.entity, mapped.key), payload, { msgID: id, headers: h, timeout: 10_000 });
    } catch (error) {
      // Not stored: forget the key so the caller's retry is taken.
      await source.seen.delete(seenKey).catch(() => undefined);
      return { status: 503, error: `JetStream did not acknowledge the envelope: ${errorMessage(error)}` };
    }
    await source.seen.put(seenKey, JSON.stringify({ ...claim, state: 'done' } satisfies Remembered)).catch(() => undefined);
    const counters = ctx.bridge.counters.get(source.config.name);
    if (counters) {
      counters.envelopes += 1;
      counters.position = position;
      counters.commitTs = receivedAt;
      counters.committedAt = new Date().toISOString();
    }
    return { accepted: { id, position } };
  });
  source.queue = run.catch(() => undefined);
  const outcome = await run;
  if ('repeat' in outcome && outcome.repeat) return answerRepeat(reply, outcome.repeat);
  if ('accepted' in outcome) return reply.code(202).send(outcome.accepted);
  return reply.code(outcome.status).send({ error: outcome.error });
}

async function remembered(kv: KV, key: string): Promise<Remembered | undefined> {
  const entry = await kv.get(key);
  if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
  return entry.json<Remembered>();
}

/** A replayed idempotency key: 200 with duplicate: true (nothing published), or 409 while the first is in flight. */
function answerRepeat(reply: FastifyReply, earlier: Remembered): FastifyReply {
  if (earlier.state === 'pending') {
    return reply.code(409).send({ error: 'a request with this idempotency key is still being processed; retry later', id: earlier.id });
  }
  return reply.code(200).send({ duplicate: true, id: earlier.id, position: earlier.position });
}
