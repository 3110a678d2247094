import type pg from 'pg';
import type { Mapping } from '../../src/mapping/types.ts';
import { loadTables } from './catalog.ts';
import { classifyPgError, connectClient, describeServer, quoteIdent, quoteTable } from './connection.ts';
import { readSlot } from './setup.ts';
import { lostServer, runDoctor, type DoctorReport } from '../shared-doctor.ts';

export type { DoctorReport };

/**
 * What `hms-sync doctor` says about a PostgreSQL source: can it connect, may it create or
 * use the publication and slot, can it read every mapped table, and how TOAST columns will
 * be handled. Reads only; creates nothing.
 */
export async function diagnosePostgres(options: { url: string; publication: string; slot: string; mappings: Mapping[] }): Promise<DoctorReport> {
  const where = describeServer(options.url);
  const session = {
    connect: () => connectClient(options.url),
    close: (client: pg.Client) => client.end(),
    classify: (error: unknown) => classifyPgError(error, where),
  };
  return runDoctor(where, session, async (client, { lines, sql }) => {
    const info = (
      await client.query<{ version: string; wal_level: string; usr: string; rolreplication: string; rolsuper: string; cancreate: string }>(
        `SELECT current_setting('server_version') AS version, current_setting('wal_level') AS wal_level, current_user AS usr,
                r.rolreplication::text AS rolreplication, r.rolsuper::text AS rolsuper,
                has_database_privilege(current_database(), 'CREATE')::text AS cancreate
           FROM pg_roles r WHERE r.rolname = current_user`,
      )
    ).rows[0]!;
    lines.push(`ok   connected as ${info.usr} (PostgreSQL ${info.version})`);
    let logPossible = true;
    if (info.wal_level !== 'logical') {
      logPossible = false;
      lines.push(`FAIL wal_level is ${info.wal_level}; log capture needs logical`);
      sql.push(`ALTER SYSTEM SET wal_level = logical;  -- then restart PostgreSQL`);
    } else lines.push('ok   wal_level = logical');

    let tables;
    try {
      tables = await loadTables(client, options.mappings, where);
    } catch (error) {
      if (lostServer(session.classify(error))) throw error; // not a missing table: the server went away
      lines.push(`FAIL ${(error as Error).message}`);
      return false;
    }
    for (const mapping of options.mappings) {
      const table = tables.get(mapping.table)!;
      const q = quoteTable(table.schema, table.name);
      const canSelect = (await client.query<{ ok: string }>(`SELECT has_table_privilege($1::regclass, 'SELECT')::text AS ok`, [q])).rows[0]!.ok;
      if (canSelect !== 'true') {
        logPossible = false;
        lines.push(`FAIL no SELECT on ${mapping.table}`);
        sql.push(`GRANT SELECT ON ${q} TO ${quoteIdent(info.usr)};`);
      }
      const identity = { d: 'default (primary key)', f: 'full', i: 'index', n: 'nothing' }[table.replicaIdentity];
      const note =
        table.replicaIdentity === 'f'
          ? 'old row images and unchanged TOAST values come with every change'
          : 'unchanged TOAST values are read back by key; deletes carry the key only';
      lines.push(`ok   ${mapping.table}: replica identity ${identity}: ${note}`);
      if (table.replicaIdentity === 'n') {
        logPossible = false;
        lines.push(`FAIL ${mapping.table}: replica identity nothing: updates and deletes cannot be captured`);
        sql.push(`ALTER TABLE ${q} REPLICA IDENTITY FULL;`);
      }
    }

    const pub = (await client.query<{ puballtables: string }>('SELECT puballtables::text FROM pg_publication WHERE pubname = $1', [options.publication]))
      .rows[0];
    const all = [...tables.values()].map((t) => quoteTable(t.schema, t.name)).join(', ');
    if (!pub) {
      const owns = (
        await client.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM pg_class c WHERE c.oid = ANY($1::oid[]) AND pg_has_role(c.relowner, 'USAGE')`,
          [[...tables.values()].map((t) => t.oid)],
        )
      ).rows[0]!.n;
      if (info.cancreate === 'true' && Number(owns) === tables.size) lines.push(`ok   publication ${options.publication} will be created by the bridge`);
      else {
        logPossible = false;
        lines.push(`FAIL publication ${options.publication} does not exist and this account may not create it`);
        sql.push(`CREATE PUBLICATION ${quoteIdent(options.publication)} FOR TABLE ${all};`);
      }
    } else if (pub.puballtables !== 'true') {
      const have = new Set(
        (await client.query<{ t: string }>(`SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = $1`, [options.publication])).rows.map(
          (r) => r.t,
        ),
      );
      const missing = [...tables.values()].filter((t) => !have.has(t.table));
      if (missing.length > 0) {
        logPossible = false;
        lines.push(`FAIL publication ${options.publication} lacks ${missing.map((t) => t.table).join(', ')}`);
        sql.push(`ALTER PUBLICATION ${quoteIdent(options.publication)} ADD TABLE ${missing.map((t) => quoteTable(t.schema, t.name)).join(', ')};`);
      } else lines.push(`ok   publication ${options.publication} covers every mapped table`);
    } else lines.push(`ok   publication ${options.publication} is FOR ALL TABLES`);

    const slot = await readSlot(client, options.slot);
    const canReplicate = info.rolreplication === 'true' || info.rolsuper === 'true';
    if (!canReplicate) {
      logPossible = false;
      lines.push(`FAIL ${info.usr} lacks the REPLICATION attribute (needed to stream a slot)`);
      sql.push(`ALTER ROLE ${quoteIdent(info.usr)} REPLICATION;`);
    }
    if (slot) lines.push(`ok   slot ${options.slot} exists (confirmed ${slot.confirmed_flush_lsn}, ${slot.active === 'true' ? 'active' : 'inactive'})`);
    else if (canReplicate) lines.push(`ok   slot ${options.slot} will be created by the bridge`);
    // Without REPLICATION the bridge cannot stream even a slot a DBA creates, so the only
    // statement that matters is the ALTER ROLE above; with it, the bridge creates the slot.
    else lines.push(`note slot ${options.slot} will be created by the bridge once ${info.usr} has REPLICATION`);
    lines.push('note keep max_slot_wal_keep_size set so a stopped bridge cannot fill the disk with retained WAL');
    return logPossible;
  });
}
