/**
 * How much WAL a replication slot holds back on the server, and how many rows a table has
 * (for snapshot and reconciliation progress). Both through short-lived connections of their
 * own, never the replication connection: a slow catalog query must not delay the stream.
 */
import type pg from 'pg';
import { connectClient } from './connection.ts';

export interface SlotLag {
  slot: string;
  /** pg_current_wal_lsn() - restart_lsn: WAL the server keeps for this slot (disk). */
  retainedBytes: number;
  /** pg_current_wal_lsn() - confirmed_flush_lsn: WAL written since the position the bridge confirmed. */
  unconfirmedBytes: number;
  /** reserved | extended | unreserved | lost (PostgreSQL 13+). */
  walStatus: string | null;
  /** Bytes that may still be written before the slot is at risk under max_slot_wal_keep_size; null when unlimited. */
  safeWalBytes: number | null;
  active: boolean;
}

const SLOT_LAG_SQL = `
  SELECT (pg_current_wal_lsn() - restart_lsn)::float8 AS retained,
         (pg_current_wal_lsn() - confirmed_flush_lsn)::float8 AS unconfirmed,
         wal_status, safe_wal_size::float8 AS safe, active
    FROM pg_replication_slots
   WHERE slot_name = $1 AND database = current_database()`;

/** The slot's lag, or undefined when the slot does not exist (yet) in this database. */
export async function readSlotLag(url: string, slot: string): Promise<SlotLag | undefined> {
  const client = await connectClient(url, { statement_timeout: 5_000, connectionTimeoutMillis: 5_000 });
  try {
    return await querySlotLag(client, slot);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function querySlotLag(client: pg.Client, slot: string): Promise<SlotLag | undefined> {
  // Values come back as the server's text (connection.ts turns type parsing off); numbers
  // and booleans are read here. Types are asked of the server as text to say so.
  const { rows } = await client.query<{ retained: string | null; unconfirmed: string | null; wal_status: string | null; safe: string | null; active: unknown }>(
    SLOT_LAG_SQL,
    [slot],
  );
  const row = rows[0];
  if (!row) return undefined;
  const bytes = (text: string | null): number => (text === null ? 0 : Math.max(0, Math.round(Number(text))));
  return {
    slot,
    retainedBytes: bytes(row.retained),
    unconfirmedBytes: bytes(row.unconfirmed),
    walStatus: row.wal_status,
    safeWalBytes: row.safe === null ? null : Math.round(Number(row.safe)),
    active: row.active === true || row.active === 't' || row.active === 'true',
  };
}

/** Tables up to this size are counted exactly when the planner has no estimate yet. */
const EXACT_COUNT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Rows in `schema.table`: the planner's estimate (pg_class.reltuples, kept by VACUUM and
 * ANALYZE), or, for a table never analyzed (reltuples -1) of at most 64 MB, an exact count.
 * Undefined when neither is cheap.
 */
export async function estimateRowCount(client: pg.Client, table: string): Promise<number | undefined> {
  const dot = table.indexOf('.');
  const [schema, name] = dot < 0 ? ['public', table] : [table.slice(0, dot), table.slice(dot + 1)];
  const { rows } = await client.query<{ reltuples: string; bytes: string; qualified: string }>(
    `SELECT c.reltuples::float8 AS reltuples, pg_relation_size(c.oid)::text AS bytes,
            quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS qualified
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, name],
  );
  const row = rows[0];
  if (!row) return undefined;
  const reltuples = Number(row.reltuples);
  // -1: never vacuumed or analyzed; 0 with pages on disk: analyzed before the rows came.
  if (reltuples > 0 || (reltuples === 0 && Number(row.bytes) === 0)) return Math.round(reltuples);
  if (Number(row.bytes) > EXACT_COUNT_MAX_BYTES) return undefined;
  const counted = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${row.qualified}`);
  return Number(counted.rows[0]!.n);
}

/** estimateRowCount over a short-lived connection. */
export async function estimateRowCountAt(url: string, table: string): Promise<number | undefined> {
  const client = await connectClient(url, { statement_timeout: 5_000, connectionTimeoutMillis: 5_000 });
  try {
    return await estimateRowCount(client, table);
  } finally {
    await client.end().catch(() => undefined);
  }
}
