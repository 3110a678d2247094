import {
  deadLetterSubject,
  entitySubject,
  envelopeId,
  type DeadLetter,
  type Envelope,
  type EnvelopeSource,
} from '../envelope/envelope.ts';
import { EnvelopeJson } from '../envelope/envelope-json.ts';
import { keyToken } from '../envelope/key-token.ts';
import { rowMapper, type RowMapper } from '../mapping/engine.ts';
import type { JsonObject, JsonValue, Mapping, MapResult, SourceColumn, SourceRow } from '../mapping/types.ts';
import type { OutgoingMessage, RawChange } from '../ports.ts';
import { ByteSlab } from '../util/byte-slab.ts';

export interface TableRoute {
  mapping: Mapping;
  /** Source key columns (the mapping's `key`, or the table's primary key). */
  keyColumns: string[];
  /** The mapping reduced to its key fields, to map a delete that carries only the key. */
  keyMapping: Mapping;
}

export interface TranslateContext {
  sourceName: string;
  sourceKind: string;
  subjectPrefix: string;
  /** Zone of the source's zone-less timestamps (the source's `timezone:`). */
  timezone?: string;
  /** The server's max_payload: a larger envelope cannot be published and is dead-lettered. */
  maxPayload?: number;
  /** The source's position epoch prefix (`~0001-`; '' or absent for epoch 0): see src/runtime/position-space.ts. */
  positionPrefix?: string;
  /**
   * Added to the position in the id only (resync: `#resync-<report id>`), so a re-emission at
   * the same position as earlier rows (a resync right after a snapshot, nothing written in
   * between) is not dropped by JetStream as their duplicate.
   */
  idSuffix?: string;
}

export interface Translated {
  message: OutgoingMessage;
  deadLetter: boolean;
  entity: string;
}

/** Envelope and dead-letter bodies as UTF-8 (byte-slab.ts). */
const payloads = new ByteSlab();
/** Envelopes' JSON, written as bytes (envelope-json.ts). */
const envelopeJson = new EnvelopeJson();

export function tableRoute(mapping: Mapping, keyColumns: string[]): TableRoute {
  const keyFields = keyColumns.map((column) => mapping.fields.find((f) => f.from === column)!).filter(Boolean);
  return { mapping, keyColumns, keyMapping: { ...mapping, fields: keyFields, unmapped: 'ignore' } };
}

/**
 * One raw change -> the message to publish: the mapped envelope, or a dead letter carrying
 * the error and the raw row. Pure: the same change always gives the same subject, id and
 * body (but for `ts`), which is what makes replays deduplicate.
 */
export function translate(change: RawChange, route: TableRoute, ctx: TranslateContext, now: string): Translated {
  const { mapping } = route;
  // One literal of a fixed shape (a spread here made an object a row and a slower copy).
  const source: EnvelopeSource = {
    name: ctx.sourceName,
    kind: ctx.sourceKind,
    table: change.table,
    capture: change.capture,
    position: ctx.positionPrefix ? ctx.positionPrefix + change.position : change.position,
    commitTs: change.commitTs,
  };
  if (change.refetched && change.refetched.length > 0) source.refetched = change.refetched;
  if (change.op === 't') {
    return envelopeMessage({ op: 't', key: null, before: null, after: null }, route, ctx, source, now);
  }
  if (change.error) return deadLetter(change, route, ctx, source, change.error);

  let key: JsonObject;
  let after: JsonObject | null = null;
  let before: JsonObject | null = null;
  if (change.op === 'd') {
    const mapped = change.before
      ? mapImage(mapping, change.before, change.columns, route.keyColumns, ctx)
      : mapImage(route.keyMapping, change.keyRow ?? {}, change.columns, route.keyColumns, ctx);
    if (!mapped.ok) return deadLetter(change, route, ctx, source, mapped.error);
    key = mapped.key;
    before = change.before ? mapped.after : null;
  } else {
    if (!change.row) return deadLetter(change, route, ctx, source, 'change carries no row image');
    const mapped = mapImage(mapping, change.row, change.columns, route.keyColumns, ctx);
    if (!mapped.ok) return deadLetter(change, route, ctx, source, mapped.error);
    key = mapped.key;
    after = mapped.after;
    if (change.before) {
      // An old image that no longer maps (a legacy value the mapping now rejects) is not a
      // reason to hold back the new one: the envelope goes out with before = null.
      const old = mapImage(mapping, change.before, change.columns, route.keyColumns, ctx);
      before = old.ok ? old.after : null;
    }
  }
  const out = envelopeMessage({ op: change.op, key, before, after }, route, ctx, source, now);
  if (ctx.maxPayload !== undefined && out.message.payload.length > ctx.maxPayload) {
    return deadLetter(
      change,
      route,
      ctx,
      source,
      `envelope of ${out.message.payload.length} bytes exceeds the NATS server's max_payload of ${ctx.maxPayload} bytes ` +
        `(raise max_payload on the server, or leave the large column out of the mapping)`,
    );
  }
  return out;
}

function mapImage(
  mapping: Mapping,
  row: SourceRow,
  columns: ReadonlyMap<string, SourceColumn>,
  keyColumns: string[],
  ctx: TranslateContext,
): MapResult {
  // The compiled mapper is kept per mapping (and key columns and zone), so the hot path does
  // not rebuild mapRow's cache key for every row.
  let memo = mappers.get(mapping);
  if (memo === undefined || memo.keyColumns !== keyColumns || memo.timezone !== ctx.timezone) {
    memo = { keyColumns, timezone: ctx.timezone, map: rowMapper(mapping, keyColumns, ctx.timezone ? { defaultTimezone: ctx.timezone } : undefined) };
    mappers.set(mapping, memo);
  }
  return memo.map(row, columns);
}

const mappers = new WeakMap<Mapping, { keyColumns: string[]; timezone: string | undefined; map: RowMapper }>();

function envelopeMessage(
  body: Pick<Envelope, 'op' | 'key' | 'before' | 'after'>,
  route: TableRoute,
  ctx: TranslateContext,
  source: EnvelopeSource,
  now: string,
): Translated {
  const { mapping } = route;
  const token = body.key === null ? '' : keyToken(Object.values(body.key) as JsonValue[]);
  const id = envelopeId(ctx.sourceName, ctx.idSuffix === undefined ? source.position : source.position + ctx.idSuffix, source.table, token, body.op);
  // entitySubject(prefix, source, entity, key), with the key token computed once.
  const subject = body.key === null ? entitySubject(ctx.subjectPrefix, ctx.sourceName, mapping.entity, null) : `${ctx.subjectPrefix}.${ctx.sourceName}.${mapping.entity}.${token}`;
  const envelope: Envelope = {
    id,
    op: body.op,
    entity: mapping.entity,
    key: body.key,
    before: body.before,
    after: body.after,
    source,
    mapping: mapping.hash,
    ts: now,
  };
  return {
    message: {
      subject,
      msgId: id,
      op: body.op,
      // The bytes of JSON.stringify's text as UTF-8, in a shared slab: no ArrayBuffer of its own
      // per envelope for the GC to track (byte-slab.ts), and no string (envelope-json.ts).
      payload: envelopeJson.write(envelope, payloads),
    },
    deadLetter: false,
    entity: mapping.entity,
  };
}

function deadLetter(change: RawChange, route: TableRoute, ctx: TranslateContext, source: EnvelopeSource, error: string): Translated {
  const rawRow = change.row ?? change.before ?? change.keyRow ?? {};
  const raw: Record<string, string | null> = {};
  for (const [column, value] of Object.entries(rawRow)) {
    // undefined is a value the source did not send (an unchanged TOAST column): writing it as
    // null would claim the row holds SQL NULL there, so it is left out of `raw` instead.
    if (value !== undefined) raw[column] = rawText(value);
  }
  // A dead letter must itself fit in a message: shorten the longest values, and say so.
  if (ctx.maxPayload !== undefined) {
    const limit = Math.max(256, Math.floor(ctx.maxPayload / 2 / Math.max(1, Object.keys(raw).length)));
    for (const [column, text] of Object.entries(raw)) {
      if (text !== null && text.length > limit) raw[column] = `${text.slice(0, limit)}… [${text.length - limit} more characters not shown]`;
    }
  }
  const keyText = route.keyColumns.map((c) => raw[c] ?? '').join('\u0000');
  const id = envelopeId(ctx.sourceName, source.position, source.table, keyText, 'dlq');
  const body: DeadLetter = { error: `${route.mapping.file}: ${error}`, raw, source: { ...source, op: change.op } };
  return {
    message: {
      subject: deadLetterSubject(ctx.subjectPrefix, ctx.sourceName, route.mapping.entity),
      msgId: id,
      op: change.op,
      payload: payloads.utf8(JSON.stringify(body)),
    },
    deadLetter: true,
    entity: route.mapping.entity,
  };
}

function rawText(value: SourceRow[string] | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}
