/**
 * `review resync ID`: re-emits the CURRENT source rows of a report's keys as `r` envelopes,
 * and a `d` tombstone for each key the source no longer has, then marks the report resolved.
 *
 * Position (PostgreSQL): the WAL insert position read before the rows are read (index 0), as
 * capture/postgres/resnapshot.ts argues: every commit these rows reflect is at or before it
 * (or after it but then also streamed, with a higher position and the same content), and
 * every commit they miss streams with a higher position. A consumer applying only newer
 * positions therefore never lets a resync row overwrite a later change. In a later position
 * epoch (src/runtime/position-space.ts) the position carries the epoch's prefix.
 *
 * A polled source cannot be resynced from here: its positions are the poll passes' own, and a
 * row published from here could race a pass under way (capture/poll/resync-requests.ts). The
 * keys are queued for the poll engine instead, which re-emits them at its next pass.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { queueResync } from '../capture/poll/resync-requests.ts';
import { currentPositionSpace } from '../src/runtime/position-space.ts';
import { loadTables, resolveKeyColumns } from '../capture/postgres/catalog.ts';
import { connectClient, describeServer } from '../capture/postgres/connection.ts';
import type { Config } from '../src/config/index.ts';
import { entitySubject, envelopeId, pgPosition, type Envelope } from '../src/envelope/envelope.ts';
import { keyToken } from '../src/envelope/key-token.ts';
import { HmsSyncError } from '../src/errors.ts';
import type { FieldSpec, JsonObject, JsonValue, Mapping } from '../src/mapping/types.ts';
import { payloadLimit } from '../src/nats/connection.ts';
import { tableRoute, translate } from '../src/pipeline/translate.ts';
import type { OutgoingMessage, RawChange } from '../src/ports.ts';
import { JetStreamPublisher, ensureStream } from '../src/publisher/index.ts';
import { loadSources } from '../src/runtime/bridge.ts';
import { keyId } from './normalize.ts';
import { resolved, type DiffReport, type Resolution } from './report.ts';
import type { ReviewStore } from './review-store.ts';
import { readRowsByKey } from './sides/postgres-rows.ts';
import { readMysqlRowsByKey } from './sides/mysql-source.ts';
import { loadTables as loadMysqlTables, resolveKeyColumns as resolveMysqlKeyColumns } from '../capture/mysql/catalog.ts';
import { classifyMysqlError, connectMysql, describeServer as describeMysql } from '../capture/mysql/connection.ts';
import { snapshotPosition } from '../capture/mysql/position.ts';
import { readServerSettings } from '../capture/mysql/settings.ts';
import { beginSnapshot } from '../capture/mysql/snapshot.ts';
import { createLogger } from '../src/log.ts';
import type { SourceColumn, SourceRow } from '../src/mapping/types.ts';

export interface ResyncResult {
  report: DiffReport;
  rows: number;
  tombstones: number;
  deadLetters: number;
  /** Where the envelopes went out; absent when queued. */
  position?: string;
  /** A polled source: the keys were queued for the poll engine (nothing published yet). */
  queued?: { key: string; keys: number; skipped: number };
}

const encoder = new TextEncoder();

/**
 * The source key of a mapped key, where the mapping can be inverted without doubt: plain
 * text and numbers, or a code that exactly one legacy value maps to. Undefined otherwise.
 */
export function invertKey(mapping: Mapping, keyColumns: readonly string[], key: JsonObject): string[] | undefined {
  const out: string[] = [];
  for (const column of keyColumns) {
    const field: FieldSpec | undefined = mapping.fields.find((f) => f.from === column);
    if (!field) return undefined;
    const value = key[field.name];
    if (value === null || value === undefined) return undefined;
    if (field.codes) {
      const legacy = Object.entries(field.codes).filter(([, mapped]) => JSON.stringify(mapped) === JSON.stringify(value));
      if (legacy.length !== 1) return undefined;
      out.push(legacy[0]![0]);
      continue;
    }
    if (field.format !== undefined || field.nullIf !== undefined) return undefined;
    if (!['string', 'integer', 'bigint', 'decimal'].includes(field.type)) return undefined;
    out.push(String(value));
  }
  return out;
}

export function tombstone(options: {
  sourceName: string;
  sourceKind: string;
  subjectPrefix: string;
  mapping: Mapping;
  key: JsonObject;
  position: string;
  commitTs: string;
  now: string;
  /** See TranslateContext.idSuffix. */
  idSuffix?: string;
}): OutgoingMessage {
  const { mapping, key, position } = options;
  const token = keyToken(Object.values(key) as JsonValue[]);
  const id = envelopeId(options.sourceName, position + (options.idSuffix ?? ''), mapping.table, token, 'd');
  const envelope: Envelope = {
    id,
    op: 'd',
    entity: mapping.entity,
    key,
    before: null,
    after: null,
    source: { name: options.sourceName, kind: options.sourceKind, table: mapping.table, capture: 'snapshot', position, commitTs: options.commitTs },
    mapping: mapping.hash,
    ts: options.now,
  };
  return {
    subject: entitySubject(options.subjectPrefix, options.sourceName, mapping.entity, key),
    msgId: id,
    op: 'd',
    payload: encoder.encode(JSON.stringify(envelope)),
  };
}

export async function resyncReport(
  config: Config,
  nc: NatsConnection,
  store: ReviewStore,
  id: string,
  options: { by: string; note?: string; signal: AbortSignal },
): Promise<ResyncResult> {
  const found = await store.get(id);
  if (!found) throw new HmsSyncError('INTERNAL', `no report ${id} in the review queue`);
  const report = found.report;
  const loaded = (await loadSources(config)).find((s) => s.config.name === report.source);
  if (!loaded) throw new HmsSyncError('CONFIG', `${config.file}: report ${id} is for source "${report.source}", which the config does not name`);
  const source = loaded.config;
  if (source.kind !== 'postgres' && source.kind !== 'mysql') throw new HmsSyncError('CONFIG', `resync supports postgres and mysql sources in this build, not ${source.kind}`);
  const mapping = loaded.mappings.find((m) => m.table === report.table);
  if (!mapping) throw new HmsSyncError('CONFIG', `source ${source.name} has no mapping for table ${report.table}`);
  let offsets: KV | undefined;
  try {
    offsets = await new Kvm(nc).open(config.nats.offsetsBucket);
  } catch {
    offsets = undefined;
  }
  const space = await currentPositionSpace(async (key) => (offsets ? (await offsets.get(key).catch(() => null))?.json() : undefined), source.name);
  if (space.method === 'poll') {
    if (!offsets) throw new HmsSyncError('NATS', `cannot open the offsets bucket ${config.nats.offsetsBucket} to queue the resync`, { retryable: true });
    return queuePollResync(offsets, store, report, mapping, options);
  }

  await ensureStream(nc, {
    stream: config.nats.stream,
    subjectPrefix: config.nats.subjectPrefix,
    duplicateWindowMs: config.nats.duplicateWindowMs,
    replicas: config.nats.replicas,
  });
  const reader = source.kind === 'mysql' ? await openMysqlReader(source.url, mapping) : await openPostgresReader(source.url, mapping);
  const publisher = new JetStreamPublisher(nc, { maxInflight: config.nats.maxInflight, ackTimeoutMs: 5_000, maxSends: 12 });
  let rows = 0;
  let tombstones = 0;
  let deadLetters = 0;
  let position: string;
  try {
    const { keyColumns } = reader;
    const route = tableRoute(mapping, keyColumns);
    position = space.prefix + reader.position;
    const startedAt = new Date().toISOString();

    // Each listed key: its source key from the report, or (missing in source) the inverse
    // of its mapped key, so a row inserted since the run is re-emitted, not tombstoned.
    const wanted = report.diffs.map((diff, i) => ({ diff, sourceKey: report.sourceKeys[i] ?? invertKey(mapping, keyColumns, diff.key) }));
    const lookups = wanted.filter((w) => w.sourceKey !== undefined && w.sourceKey !== null).map((w) => w.sourceKey!);
    const reads = lookups.length > 0 ? await reader.read(lookups) : [];
    const foundKeys = new Set(reads.map((r) => keyId(r.sourceKey)));
    const ctx = {
      sourceName: source.name,
      sourceKind: source.kind,
      subjectPrefix: config.nats.subjectPrefix,
      timezone: source.timezone,
      ...(payloadLimit(nc) !== undefined ? { maxPayload: payloadLimit(nc)! } : {}),
      positionPrefix: space.prefix,
      // Ids of their own: rows at the same position as the snapshot's (nothing written since)
      // would otherwise be dropped as the snapshot's duplicates; the same resync again dedupes.
      idSuffix: `#resync-${id}`,
    };
    const now = new Date().toISOString();
    for (const read of reads) {
      options.signal.throwIfAborted();
      const keyRow: Record<string, (typeof read.row)[string]> = {};
      for (const k of keyColumns) keyRow[k] = read.row[k] ?? null;
      const change: RawChange = {
        op: 'r',
        table: mapping.table,
        // The bare position: translate adds the epoch prefix (ctx.positionPrefix).
        position: position.slice(space.prefix.length),
        commitTs: startedAt,
        capture: 'snapshot',
        row: read.row,
        before: null,
        keyRow,
        columns: read.columns,
      };
      const out = translate(change, route, ctx, now);
      if (out.deadLetter) deadLetters += 1;
      else rows += 1;
      await publisher.publish(out.message);
    }
    for (const w of wanted) {
      if (w.sourceKey && foundKeys.has(keyId(w.sourceKey))) continue;
      await publisher.publish(
        tombstone({ sourceName: source.name, sourceKind: source.kind, subjectPrefix: config.nats.subjectPrefix, mapping, key: w.diff.key, position, commitTs: startedAt, now, idSuffix: `#resync-${id}` }),
      );
      tombstones += 1;
    }
    await publisher.waitAcked(publisher.lastSequence, options.signal);
  } finally {
    await publisher.close();
    await reader.close();
  }
  const at = new Date().toISOString();
  const updated = await store.update(id, (current) =>
    resolved(current, {
      action: 'resync',
      by: options.by,
      at,
      ...(options.note !== undefined ? { note: options.note } : {}),
      rows,
      tombstones,
      position,
    }),
  );
  return { report: updated, rows, tombstones, deadLetters, position };
}

/**
 * A polled source: the report's keys (their source keys; for a key missing in the source, the
 * inverse of its mapped key) go to the poll engine as one request; the engine re-emits each
 * key's current row as `r`, or `d` where the row is gone, at its next pass. The report is
 * resolved now, saying it was queued.
 */
async function queuePollResync(
  offsets: KV,
  store: ReviewStore,
  report: DiffReport,
  mapping: Mapping,
  options: { by: string; note?: string },
): Promise<ResyncResult> {
  const keys: string[][] = [];
  let skipped = 0;
  report.diffs.forEach((diff, i) => {
    const key = report.sourceKeys[i] ?? invertKey(mapping, report.keyColumns, diff.key);
    if (key) keys.push(key);
    else skipped += 1;
  });
  const requestedAt = new Date().toISOString();
  const key = await queueResync(
    { put: async (k, value) => void (await offsets.put(k, JSON.stringify(value))) },
    report.source,
    { id: report.id, table: report.table, keys, requestedAt, by: options.by },
  );
  // `queued` is an addition to the Resolution fields: the envelopes are not out yet.
  const resolution: Resolution & { queued: true } = {
    action: 'resync',
    by: options.by,
    at: requestedAt,
    ...(options.note !== undefined ? { note: options.note } : {}),
    rows: keys.length,
    tombstones: 0,
    queued: true,
  };
  const updated = await store.update(report.id, (current) => resolved(current, resolution));
  return { report: updated, rows: keys.length, tombstones: 0, deadLetters: 0, queued: { key, keys: keys.length, skipped } };
}

/** Reads a table's rows by key inside one read-only snapshot, at a position every commit they miss sorts after. */
interface KeyReader {
  keyColumns: string[];
  /** Bare position (no epoch prefix) of the rows read. */
  position: string;
  read(keys: readonly string[][]): Promise<Array<{ row: SourceRow; columns: ReadonlyMap<string, SourceColumn>; sourceKey: string[] }>>;
  close(): Promise<void>;
}

async function openPostgresReader(url: string, mapping: Mapping): Promise<KeyReader> {
  const where = describeServer(url);
  const client = await connectClient(url);
  try {
    const table = (await loadTables(client, [mapping], where)).get(mapping.table)!;
    const keyColumns = resolveKeyColumns(mapping, table);
    const lsn = (await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn;
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    return {
      keyColumns,
      position: pgPosition(lsn, 0),
      read: (keys) => readRowsByKey(client, table, keyColumns, keys),
      close: async () => {
        await client.query('COMMIT').catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/**
 * MySQL / MariaDB: the rows are read in a consistent-snapshot transaction whose binlog point
 * is known (capture/mysql/snapshot.ts beginSnapshot), and carry that point with index 0,
 * exactly like snapshot rows: every transaction they miss starts at or after the point.
 */
async function openMysqlReader(url: string, mapping: Mapping): Promise<KeyReader> {
  const where = describeMysql(url);
  const connection = await connectMysql(url, where);
  try {
    const settings = await readServerSettings(connection);
    const table = (await loadMysqlTables(connection, [mapping], where)).get(mapping.table)!;
    const keyColumns = resolveMysqlKeyColumns(mapping, table);
    const point = await beginSnapshot(connection, settings.flavor, { needPoint: true, log: silentLogger(), where });
    return {
      keyColumns,
      position: snapshotPosition(point!),
      read: (keys) => readMysqlRowsByKey(connection, table, keyColumns, keys, where),
      close: async () => {
        await connection.query('COMMIT').catch(() => undefined);
        await connection.end().catch(() => undefined);
      },
    };
  } catch (error) {
    await connection.end().catch(() => undefined);
    throw classifyMysqlError(error, where);
  }
}

function silentLogger() {
  return createLogger('silent');
}
