/**
 * What the Oracle and SQL Server catalogs decide the same way once their tables are read: which
 * mapped tables are missing, which columns are the key, and the columns as the mapping sees them
 * (the MySQL snapshot uses that last one too).
 */
import { HmsSyncError } from '../src/errors.ts';
import type { Mapping, SourceColumn } from '../src/mapping/types.ts';

/**
 * Throws when the catalog did not list every mapped table. Both catalogs list only the tables
 * the account may see, so each missing table is named with the GRANT that would show it.
 * `matching` says how names are compared on this server.
 */
export function requireMappedTables(
  mappings: readonly Mapping[],
  found: ReadonlyMap<string, unknown>,
  where: string,
  server: { matching: string; quoteTable: (schema: string, table: string) => string },
): void {
  const missing = mappings.filter((m) => !found.has(m.table));
  if (missing.length === 0) return;
  throw new HmsSyncError(
    'SOURCE_PRIVILEGE',
    missing
      .map(
        (m) =>
          `${m.file}: table ${m.table} not found in ${where} (${server.matching}; a table the account may not read is not listed either: ` +
          `a DBA can run GRANT SELECT ON ${server.quoteTable(m.schema, m.tableName)} TO <bridge user>;)`,
      )
      .join('; '),
    { retryable: true },
  );
}

/** The mapping's key, or the primary key; every key column must exist (all that do not are named). */
export function resolveKeyColumns(mapping: Mapping, table: { primaryKey: string[]; columns: ReadonlyArray<{ name: string }> }): string[] {
  const key = mapping.key ?? table.primaryKey;
  if (key.length === 0) {
    throw new HmsSyncError('MAPPING', `${mapping.file}: table ${mapping.table} has no primary key; name its key columns with "key:"`);
  }
  const names = new Set(table.columns.map((c) => c.name));
  const unknown = key.filter((k) => !names.has(k));
  if (unknown.length > 0) throw new HmsSyncError('MAPPING', `${mapping.file}: key column ${unknown.join(', ')} is not a column of ${mapping.table}`);
  return key;
}

/** The table's columns (or those named in `only`) as the mapping engine sees them: name, kind and native type. */
export function sourceColumns(table: { columns: ReadonlyArray<SourceColumn> }, only?: readonly string[]): Map<string, SourceColumn> {
  const wanted = only ? new Set(only) : undefined;
  return new Map(table.columns.filter((c) => !wanted || wanted.has(c.name)).map((c) => [c.name, { name: c.name, kind: c.kind, nativeType: c.nativeType }]));
}
