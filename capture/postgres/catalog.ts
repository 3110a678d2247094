import type pg from 'pg';
import { HmsSyncError } from '../../src/errors.ts';
import type { Mapping, SourceColumn } from '../../src/mapping/types.ts';
import { kindForOid } from './pg-types.ts';

export interface PgColumn extends SourceColumn {
  typeOid: number;
}

export interface PgTable {
  /** "schema.table" as in the catalog. */
  table: string;
  schema: string;
  name: string;
  oid: number;
  columns: Map<string, PgColumn>;
  primaryKey: string[];
  /** pg_class.relreplident: d default (primary key), f full, i index, n nothing. */
  replicaIdentity: 'd' | 'f' | 'i' | 'n';
}

/** Reads the mapped tables' columns, primary keys and replica identity in two queries. */
export async function loadTables(client: pg.Client, mappings: readonly Mapping[], where: string): Promise<Map<string, PgTable>> {
  const schemas = mappings.map((m) => m.schema);
  const names = mappings.map((m) => m.tableName);
  const { rows } = await client.query<{
    oid: string;
    nspname: string;
    relname: string;
    relreplident: string;
    attname: string;
    atttypid: string;
    type: string;
  }>(
    `SELECT c.oid, n.nspname, c.relname, c.relreplident, a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod) AS type
       FROM unnest($1::text[], $2::text[]) AS want(nsp, rel)
       JOIN pg_namespace n ON n.nspname = want.nsp
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = want.rel AND c.relkind IN ('r', 'p')
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.oid, a.attnum`,
    [schemas, names],
  );
  const tables = new Map<string, PgTable>();
  for (const row of rows) {
    const key = `${row.nspname}.${row.relname}`;
    let table = tables.get(key);
    if (!table) {
      table = {
        table: key,
        schema: row.nspname,
        name: row.relname,
        oid: Number(row.oid),
        columns: new Map(),
        primaryKey: [],
        replicaIdentity: row.relreplident as PgTable['replicaIdentity'],
      };
      tables.set(key, table);
    }
    const typeOid = Number(row.atttypid);
    table.columns.set(row.attname, { name: row.attname, kind: kindForOid(typeOid), nativeType: row.type, typeOid });
  }
  const missing = mappings.filter((m) => !tables.has(m.table));
  if (missing.length > 0) {
    throw new HmsSyncError(
      'SOURCE_STATE',
      missing.map((m) => `${m.file}: table ${m.table} not found in ${where} (names are matched exactly, case included)`).join('; '),
      { retryable: true },
    );
  }
  const oids = [...tables.values()].map((t) => t.oid);
  const pk = await client.query<{ indrelid: string; attname: string }>(
    `SELECT i.indrelid, a.attname
       FROM pg_index i
       JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) ON true
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indisprimary AND i.indrelid = ANY($1::oid[])
      ORDER BY i.indrelid, k.ord`,
    [oids],
  );
  const byOid = new Map([...tables.values()].map((t) => [t.oid, t]));
  for (const row of pk.rows) byOid.get(Number(row.indrelid))?.primaryKey.push(row.attname);
  return tables;
}

/** The mapping's key columns, defaulting to the primary key; checked against the table. */
export function resolveKeyColumns(mapping: Mapping, table: PgTable): string[] {
  const key = mapping.key ?? table.primaryKey;
  if (key.length === 0) {
    throw new HmsSyncError('MAPPING', `${mapping.file}: table ${mapping.table} has no primary key; name its key columns with "key:"`);
  }
  for (const column of key) {
    if (!table.columns.has(column)) {
      throw new HmsSyncError('MAPPING', `${mapping.file}: key column ${column} is not a column of ${mapping.table}`);
    }
  }
  return key;
}
