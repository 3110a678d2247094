/**
 * The mapping engine: a captured row in, the envelope's `key` and `after` out. Pure: no
 * I/O, no clock, no machine time zone. A mapping is compiled once into a RowMapper; the
 * hot path then does one Map lookup and one prepared converter call per field.
 */
import { compileField, toBase64, ValueError, type ValueConverter } from './field-converter.ts';
import type { JsonObject, JsonValue, Mapping, MapResult, SourceColumn, SourceRow, SourceValue } from './types.ts';

export interface MapOptions {
  /**
   * Zone of zone-less source timestamps for fields without their own `timezone:` (the
   * source's `timezone:` in the config). Default UTC.
   */
  defaultTimezone?: string;
}

export type RowMapper = (row: SourceRow, columns: ReadonlyMap<string, SourceColumn>) => MapResult;

interface CompiledField {
  name: string;
  from: string;
  convert: ValueConverter;
}

function isCapturedValue(value: unknown): value is SourceValue {
  return value === null || typeof value === 'string' || value instanceof Uint8Array;
}

function missingValue(row: SourceRow, field: CompiledField, value: unknown): string {
  if (value === undefined || !Object.hasOwn(row, field.from)) {
    return `field ${field.name}: column "${field.from}" is not in the source row (dropped or renamed?)`;
  }
  return `field ${field.name} (column ${field.from}): unsupported captured value of type ${typeof value}`;
}

/** Key columns that no field maps (such a mapping cannot produce a key). */
export function unmappedKeyColumns(mapping: Mapping, keyColumns: readonly string[]): string[] {
  const columns = mapping.key ?? keyColumns;
  return columns.filter((column) => !mapping.fields.some((field) => field.from === column));
}

/**
 * Compiles a mapping. `keyColumns` is the table's primary key as the capture found it; the
 * mapping's own `key:` wins when set.
 */
export function compileMapping(mapping: Mapping, keyColumns: readonly string[], options: MapOptions = {}): RowMapper {
  const defaultTimezone = options.defaultTimezone ?? 'UTC';
  const fields: CompiledField[] = mapping.fields.map((spec) => ({
    name: spec.name,
    from: spec.from,
    convert: compileField(spec, defaultTimezone),
  }));
  const count = fields.length;

  const keySource = mapping.key ?? keyColumns;
  let keyProblem: string | undefined;
  const keyFields: { name: string; column: string }[] = [];
  if (keySource.length === 0) {
    keyProblem = `table ${mapping.table} has no primary key and the mapping sets no key: (add key: [COLUMN, ...])`;
  }
  for (const column of keySource) {
    const field = mapping.fields.find((f) => f.from === column);
    if (field === undefined) {
      keyProblem ??= `key column "${column}" is not mapped by any field of ${mapping.file}`;
    } else {
      keyFields.push({ name: field.name, column });
    }
  }

  const usedColumns = new Set(fields.map((f) => f.from));
  const unmapped = mapping.unmapped;

  return (row, columns) => {
    if (keyProblem !== undefined) return { ok: false, error: keyProblem };
    const after: JsonObject = {};
    for (let i = 0; i < count; i++) {
      const field = fields[i]!;
      const value = row[field.from];
      if (value === null) {
        after[field.name] = null;
        continue;
      }
      if (!isCapturedValue(value)) return { ok: false, error: missingValue(row, field, value) };
      try {
        after[field.name] = field.convert(value, columns.get(field.from)?.kind ?? 'text');
      } catch (error) {
        if (error instanceof ValueError) return { ok: false, error: `field ${field.name} (column ${field.from}): ${error.message}` };
        throw error;
      }
    }

    if (unmapped !== 'ignore') {
      let extra: JsonObject | undefined;
      let unknown: string[] | undefined;
      for (const column of Object.keys(row)) {
        if (usedColumns.has(column)) continue;
        if (unmapped === 'error') {
          (unknown ??= []).push(column);
          continue;
        }
        const value = row[column];
        const text: JsonValue = typeof value === 'string' ? value : value instanceof Uint8Array ? toBase64(value) : null;
        extra ??= {};
        // defineProperty: a legacy column may well be called "__proto__".
        Object.defineProperty(extra, column, { value: text, enumerable: true, writable: true, configurable: true });
      }
      if (unknown !== undefined) {
        return { ok: false, error: `unmapped columns ${unknown.map((c) => `"${c}"`).join(', ')} (the mapping says unmapped: error)` };
      }
      // Only `keep` owns "extra": with `error` every column is mapped, and a field may well be
      // named "extra" (the mapping file check forbids that name only under keep).
      if (unmapped === 'keep') after.extra = extra ?? {};
    }

    const key: JsonObject = {};
    for (const { name, column } of keyFields) {
      const value = after[name]!;
      if (value === null) return { ok: false, error: `field ${name} (column ${column}): a key value cannot be null` };
      key[name] = value;
    }
    return { ok: true, key, after };
  };
}

const compiled = new WeakMap<Mapping, Map<string, RowMapper>>();

/** Maps one row; compiles the mapping on first use and keeps it (per key columns and zone). */
export function mapRow(
  mapping: Mapping,
  row: SourceRow,
  columns: ReadonlyMap<string, SourceColumn>,
  keyColumns: readonly string[],
  options: MapOptions = {},
): MapResult {
  return rowMapper(mapping, keyColumns, options)(row, columns);
}

/** The compiled mapper mapRow uses (compiled on first use, then kept), for callers mapping many rows. */
export function rowMapper(mapping: Mapping, keyColumns: readonly string[], options: MapOptions = {}): RowMapper {
  let byKey = compiled.get(mapping);
  if (byKey === undefined) {
    byKey = new Map();
    compiled.set(mapping, byKey);
  }
  const cacheKey = `${options.defaultTimezone ?? 'UTC'}\u0000${keyColumns.join('\u0000')}`;
  let mapper = byKey.get(cacheKey);
  if (mapper === undefined) {
    mapper = compileMapping(mapping, keyColumns, options);
    byKey.set(cacheKey, mapper);
  }
  return mapper;
}
