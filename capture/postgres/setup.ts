import pg from 'pg';
import { HmsSyncError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import { classifyPgError, clientConfig, quoteIdent, quoteTable } from './connection.ts';
import type { PgTable } from './catalog.ts';

export interface SlotInfo {
  slot_name: string;
  plugin: string | null;
  database: string | null;
  active: string;
  active_pid: string | null;
  confirmed_flush_lsn: string | null;
  wal_status: string | null;
}

function tableList(tables: PgTable[]): string {
  return tables.map((t) => quoteTable(t.schema, t.name)).join(', ');
}

/**
 * Creates the publication when it is missing and the account may; adds missing tables when
 * the account owns it. Otherwise says exactly what a DBA must run. A table dropped and
 * recreated silently leaves a publication, which this check catches on every start.
 */
export async function ensurePublication(client: pg.Client, name: string, tables: PgTable[], where: string, log: Logger): Promise<void> {
  const existing = await client.query<{ puballtables: string }>('SELECT puballtables FROM pg_publication WHERE pubname = $1', [name]);
  const first = existing.rows[0];
  if (!first) {
    const sql = `CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ${tableList(tables)}`;
    try {
      await client.query(sql);
      log.info({ publication: name }, `created publication ${name}`);
      return;
    } catch (error) {
      throw privilegeError(error, where, `cannot create publication ${name}`, `${sql};`);
    }
  }
  if (first.puballtables === 't' || first.puballtables === 'true') return;
  const published = await client.query<{ schemaname: string; tablename: string }>(
    'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1',
    [name],
  );
  const have = new Set(published.rows.map((r) => `${r.schemaname}.${r.tablename}`));
  const missing = tables.filter((t) => !have.has(t.table));
  if (missing.length === 0) return;
  const sql = `ALTER PUBLICATION ${quoteIdent(name)} ADD TABLE ${tableList(missing)}`;
  try {
    await client.query(sql);
    log.info({ publication: name, tables: missing.map((t) => t.table) }, `added tables to publication ${name}`);
  } catch (error) {
    throw privilegeError(
      error,
      where,
      `publication ${name} does not include ${missing.map((t) => t.table).join(', ')} (a table dropped and recreated leaves its publication)`,
      `${sql};`,
    );
  }
}

export async function readSlot(client: pg.Client, slot: string): Promise<SlotInfo | undefined> {
  const { rows } = await client.query<SlotInfo>(
    `SELECT slot_name, plugin, database, active::text AS active, active_pid, confirmed_flush_lsn::text AS confirmed_flush_lsn, wal_status
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  return rows[0];
}

export function checkSlot(slot: SlotInfo, database: string, where: string): void {
  if (slot.plugin !== 'pgoutput' || slot.database !== database) {
    throw new HmsSyncError(
      'SOURCE_STATE',
      `${where}: replication slot ${slot.slot_name} exists but is for plugin ${slot.plugin} on database ${slot.database}; ` +
        `name another slot in the source's "slot:" or drop it`,
    );
  }
  if (slot.wal_status === 'lost') {
    throw new HmsSyncError(
      'SOURCE_STATE',
      `${where}: replication slot ${slot.slot_name} has lost required WAL (max_slot_wal_keep_size exceeded); changes are gone ` +
        `from the log: drop the slot (SELECT pg_drop_replication_slot('${slot.slot_name}')) so the bridge takes a new snapshot`,
    );
  }
  if (slot.active === 'true') {
    // Right after a consumer disconnects the slot stays active for a moment (55006 on reuse).
    throw new HmsSyncError('SOURCE_STATE', `${where}: replication slot ${slot.slot_name} is in use by pid ${slot.active_pid}`, {
      retryable: true,
    });
  }
}

export interface CreatedSlot {
  consistentPoint: string;
  snapshotName: string;
  /** The exported snapshot lives as long as this connection stays open and idle. */
  connection: pg.Client;
}

export async function createSlotWithSnapshot(url: string, slot: string, where: string, user: string): Promise<CreatedSlot> {
  const connection = new pg.Client({ ...clientConfig(url), replication: 'database' } as pg.ClientConfig);
  connection.on('error', () => undefined);
  try {
    await connection.connect();
    const { rows } = await connection.query<{ consistent_point: string; snapshot_name: string }>(
      `CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput (SNAPSHOT 'export')`,
    );
    const row = rows[0];
    if (!row) throw new HmsSyncError('SOURCE_STATE', `${where}: CREATE_REPLICATION_SLOT returned nothing`, { retryable: true });
    return { consistentPoint: row.consistent_point, snapshotName: row.snapshot_name, connection };
  } catch (error) {
    await connection.end().catch(() => undefined);
    throw privilegeError(
      error,
      where,
      `cannot create replication slot ${slot}`,
      `ALTER ROLE ${quoteIdent(user)} REPLICATION;`,
    );
  }
}

function privilegeError(error: unknown, where: string, what: string, sql: string): HmsSyncError {
  const classified = classifyPgError(error, where);
  if (classified.code === 'SOURCE_PRIVILEGE' || /permission denied|must be owner|must be superuser|replication role/i.test(classified.message)) {
    return new HmsSyncError('SOURCE_PRIVILEGE', `${where}: ${what}: ${(error as Error).message}. A DBA can run: ${sql}`, {
      cause: error,
      retryable: true,
    });
  }
  return classified;
}

/**
 * A logical slot that keeps the WAL from now on, without a snapshot (the switch from polling
 * to log capture, docs/polling.md "Switching to log capture", step a). A slot left by an
 * earlier period of log capture is dropped first: its position is from before the polling,
 * and replaying from there would only resend old changes. Returns the slot's consistent point:
 * every transaction that commits after it is decoded; every one that committed before it is
 * visible to a read started after this returns.
 */
export async function createSlotAtNow(client: pg.Client, slot: string, where: string, user: string, log: Logger): Promise<string> {
  const existing = await readSlot(client, slot);
  if (existing) {
    if (existing.active === 'true') {
      throw new HmsSyncError('SOURCE_STATE', `${where}: replication slot ${slot} is in use by pid ${existing.active_pid}`, { retryable: true });
    }
    await client.query('SELECT pg_drop_replication_slot($1)', [slot]).catch((error: unknown) => {
      throw privilegeError(error, where, `cannot drop the old replication slot ${slot}`, `SELECT pg_drop_replication_slot('${slot}');`);
    });
    log.info({ slot, confirmedLsn: existing.confirmed_flush_lsn }, `dropped replication slot ${slot} left by an earlier period of log capture`);
  }
  try {
    const { rows } = await client.query<{ lsn: string }>(`SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
    return rows[0]!.lsn;
  } catch (error) {
    throw privilegeError(error, where, `cannot create replication slot ${slot}`, `ALTER ROLE ${quoteIdent(user)} REPLICATION;`);
  }
}
