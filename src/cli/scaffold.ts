import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadTables } from '../../capture/postgres/catalog.ts';
import { connectClient, describeServer } from '../../capture/postgres/connection.ts';
import { loadConfig } from '../config/index.ts';
import { HmsSyncError } from '../errors.ts';
import type { FieldType, Mapping, SourceColumnKind } from '../mapping/types.ts';

const TYPE_BY_KIND: Record<SourceColumnKind, FieldType> = {
  text: 'string',
  integer: 'integer',
  decimal: 'decimal',
  float: 'decimal',
  boolean: 'boolean',
  date: 'date',
  time: 'string',
  timestamp: 'timestamp',
  timestamptz: 'timestamp',
  json: 'json',
  bytes: 'bytes',
  other: 'string',
};

/** LEGACY_COL_NAME -> legacyColName */
export function fieldName(column: string): string {
  const parts = column.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const name = parts.map((p, i) => (i === 0 ? p.toLowerCase() : p.charAt(0).toUpperCase() + p.slice(1).toLowerCase())).join('');
  return /^[A-Za-z_]/.test(name) ? name : `f${name}`;
}

export async function scaffoldCommand(opts: { config: string; source: string; table: string; force?: boolean }): Promise<number> {
  const config = await loadConfig(opts.config);
  const source = config.sources.find((s) => s.name === opts.source);
  if (!source) throw new HmsSyncError('CONFIG', `${opts.config}: no source named "${opts.source}"`);
  if (source.kind !== 'postgres') throw new HmsSyncError('CONFIG', `scaffold supports postgres sources in this build, not ${source.kind}`);
  const dot = opts.table.indexOf('.');
  if (dot < 1) throw new HmsSyncError('CONFIG', `--table must be schema-qualified (e.g. public.${opts.table})`);
  const schema = opts.table.slice(0, dot);
  const tableName = opts.table.slice(dot + 1);
  const client = await connectClient(source.url);
  try {
    const probe = { table: opts.table, schema, tableName, file: '--table' } as Mapping;
    const tables = await loadTables(client, [probe], describeServer(source.url));
    const table = tables.get(opts.table)!;
    const fields: Record<string, Record<string, unknown>> = {};
    for (const column of table.columns.values()) {
      let type = TYPE_BY_KIND[column.kind];
      if (column.kind === 'integer' && column.nativeType === 'bigint') type = 'bigint';
      const field: Record<string, unknown> = { from: column.name, type };
      if (column.nativeType.startsWith('character(')) field.trim = true;
      fields[fieldName(column.name)] = field;
    }
    const doc = {
      table: opts.table,
      entity: tableName.toLowerCase().replace(/[^a-z0-9_]+/g, '_'),
      ...(table.primaryKey.length > 0 ? { key: table.primaryKey } : {}),
      fields,
      unmapped: 'ignore',
    };
    const path = join(source.mappings, `${tableName}.yaml`);
    if (!opts.force) {
      const exists = await access(path).then(
        () => true,
        () => false,
      );
      if (exists) throw new HmsSyncError('CONFIG', `${path} exists; use --force to overwrite it`);
    }
    await mkdir(source.mappings, { recursive: true });
    const header = `# Scaffolded from ${describeServer(source.url)} ${opts.table}. Review types, codes and formats before use.\n`;
    await writeFile(path, header + stringify(doc, { lineWidth: 0, collectionStyle: 'any', flowCollectionPadding: true }));
    process.stdout.write(path + '\n');
    return 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}
