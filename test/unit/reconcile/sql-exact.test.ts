// The SQL-exact classifier: which mappings may have their source checksums computed in SQL.
// Conservative: anything SQL cannot reproduce byte for byte sends the mapping to the scan.
import { describe, expect, it } from 'vitest';
import { JS_TRIM_CODE_POINTS, fieldProblem, keyProblem, sqlExact, typnamesOf, type SqlExactInput } from '../../../reconcile/sql-exact.ts';
import type { FieldSpec, Mapping } from '../../../src/mapping/types.ts';

function field(name: string, type: FieldSpec['type'], extra: Partial<FieldSpec> = {}): FieldSpec {
  return { name, from: name, type, trim: false, line: 1, ...extra };
}

function mapping(fields: FieldSpec[], extra: Partial<Mapping> = {}): Mapping {
  return { file: '/m/t.yaml', table: 'public.t', schema: 'public', tableName: 't', entity: 't', fields, unmapped: 'ignore', hash: 'x', ...extra };
}

const COLUMNS = new Map<string, string | undefined>([
  ['id', 'int4'],
  ['big', 'int8'],
  ['amount', 'numeric'],
  ['code', 'bpchar'],
  ['name', 'varchar'],
  ['note', 'text'],
  ['active', 'bool'],
  ['born', 'date'],
  ['at', 'timestamptz'],
  ['local', 'timestamp'],
  ['doc', 'jsonb'],
  ['plain', 'json'],
  ['blob', 'bytea'],
  ['ratio', 'float8'],
  ['mood', undefined],
]);

const SESSION = { serverEncoding: 'UTF8', dateStyle: 'ISO, YMD', timeZone: 'UTC' };

function verdict(fields: FieldSpec[], extra: Partial<SqlExactInput> = {}, mappingExtra: Partial<Mapping> = {}) {
  return sqlExact({ mapping: mapping(fields, mappingExtra), columns: COLUMNS, keyColumns: ['id'], defaultTimezone: 'UTC', session: SESSION, ...extra });
}

describe('sqlExact', () => {
  it('admits plain copies of every supported type', () => {
    const fields = [
      field('id', 'integer'),
      field('big', 'bigint'),
      field('amount', 'decimal'),
      field('code', 'string', { trim: true }),
      field('name', 'string', { nullIf: [''] }),
      field('note', 'string'),
      field('active', 'boolean'),
      field('born', 'date'),
      field('at', 'timestamp'),
      field('local', 'timestamp'),
      field('doc', 'json'),
      field('blob', 'bytes'),
    ];
    expect(verdict(fields)).toEqual({ exact: true });
    // Integer fields from int8 and numeric columns too (rows beyond ±2^53-1 are recognized in SQL and read).
    expect(verdict([field('id', 'integer'), field('big', 'integer'), field('amount', 'integer')])).toEqual({ exact: true });
  });

  it.each([
    ['codes', field('note', 'string', { codes: { A: 'active' } })],
    ['default', field('note', 'string', { default: 'x' })],
    ['format', field('note', 'date', { format: 'yyyyMMdd' })],
    ['a date field from a text column', field('note', 'date')],
    ['legacy boolean spellings', field('active', 'boolean', { trueValues: ['Y'], falseValues: ['N'] })],
    ['a boolean from a text column', field('note', 'boolean')],
    ['nullIf other than ""', field('note', 'string', { nullIf: ['N/A'] })],
    ['nullIf with "" and more', field('note', 'string', { nullIf: ['', '0'] })],
    ['a string from a number column', field('amount', 'string')],
    ['a decimal from a float column', field('ratio', 'decimal')],
    ['a decimal from a text column', field('note', 'decimal')],
    ['json from a json (not jsonb) column', field('plain', 'json')],
    ['bytes from a text column', field('note', 'bytes')],
    ['an unknown column type (enum, domain)', field('mood', 'string')],
    ['a timestamp from a timestamptz column with a format', field('at', 'timestamp', { format: 'yyyyMMddHHmmss' })],
    ['a zone-less timestamp read in another zone', field('local', 'timestamp', { timezone: 'Europe/Vienna' })],
    ['a date from a timestamp column', field('at', 'date')],
  ])('sends %s to the scan', (_, spec) => {
    const result = verdict([field('id', 'integer'), spec]);
    expect(result.exact).toBe(false);
  });

  it('takes the zone of zone-less timestamps from the field, else from the source', () => {
    expect(fieldProblem(field('local', 'timestamp'), 'timestamp', 'UTC')).toBeUndefined();
    expect(fieldProblem(field('local', 'timestamp'), 'timestamp', 'America/Chicago')).toMatch(/America\/Chicago/);
    expect(fieldProblem(field('local', 'timestamp', { timezone: 'UTC' }), 'timestamp', 'America/Chicago')).toBeUndefined();
    // timestamptz carries its instant: the zone does not matter.
    expect(fieldProblem(field('at', 'timestamp'), 'timestamptz', 'America/Chicago')).toBeUndefined();
  });

  it('checks the mapping as a whole: unmapped columns, keys, session', () => {
    const fields = [field('id', 'integer'), field('note', 'string')];
    expect(verdict(fields, {}, { unmapped: 'keep' })).toEqual({ exact: false, reasons: ['unmapped: keep'] });
    // unmapped: error fails every row when the table has an unmapped column.
    expect(verdict(fields, {}, { unmapped: 'error' }).exact).toBe(false);
    expect(verdict(fields, { columns: new Map([['id', 'int4'], ['note', 'text']]) }, { unmapped: 'error' })).toEqual({ exact: true });
    expect(verdict(fields, { keyColumns: ['name'] }).exact).toBe(false); // key column not mapped
    expect(verdict(fields, { keyColumns: [] }).exact).toBe(false);
    expect(verdict([field('nope', 'string'), ...fields]).exact).toBe(false); // no such column
    expect(verdict(fields, { session: { ...SESSION, serverEncoding: 'LATIN1' } }).exact).toBe(false);
    expect(verdict(fields, { session: { ...SESSION, timeZone: 'Europe/Vienna' } }).exact).toBe(false);
    expect(verdict(fields, { session: { ...SESSION, dateStyle: 'SQL, DMY' } }).exact).toBe(false);
    // PostgreSQL 10 has no hashtextextended(): the scan, which hashes in the bridge.
    expect(verdict(fields, { session: { ...SESSION, versionNum: 100023 } })).toEqual({ exact: false, reasons: ['PostgreSQL 100023 has no hashtextextended() (11 or later)'] });
    expect(verdict(fields, { session: { ...SESSION, versionNum: 150010 } }).exact).toBe(true);
  });

  it('admits only keys that order in SQL like keyComparator', () => {
    expect(keyProblem(field('name', 'string'), 'varchar')).toBeUndefined();
    expect(keyProblem(field('note', 'string'), 'text')).toBeUndefined();
    expect(keyProblem(field('code', 'string'), 'bpchar')).toMatch(/padding/);
    expect(keyProblem(field('name', 'string', { trim: true }), 'varchar')).toMatch(/trim/);
    expect(keyProblem(field('name', 'string', { nullIf: [''] }), 'varchar')).toMatch(/nullIf/);
    expect(keyProblem(field('blob', 'bytes'), 'bytea')).toMatch(/bytes keys/);
    expect(keyProblem(field('doc', 'json'), 'jsonb')).toMatch(/json keys/);
    for (const [spec, type] of [
      [field('id', 'integer'), 'int4'],
      [field('amount', 'decimal'), 'numeric'],
      [field('born', 'date'), 'date'],
      [field('at', 'timestamp'), 'timestamptz'],
      [field('active', 'boolean'), 'bool'],
    ] as const) {
      expect(keyProblem(spec, type)).toBeUndefined();
    }
    const composite = sqlExact({
      mapping: mapping([field('code', 'string'), field('id', 'integer')]),
      columns: COLUMNS,
      keyColumns: ['code', 'id'],
      defaultTimezone: 'UTC',
      session: SESSION,
    });
    expect(composite.exact).toBe(false);
  });

  it('names column types by OID, unknown types (domains, enums, floats) stay unknown', () => {
    const types = typnamesOf(new Map([['a', { typeOid: 23 }], ['b', { typeOid: 1184 }], ['c', { typeOid: 701 }], ['d', { typeOid: 91234 }]]));
    expect([...types]).toEqual([['a', 'int4'], ['b', 'timestamptz'], ['c', undefined], ['d', undefined]]);
  });

  it('trims in SQL exactly what the engine trims (JavaScript trim), over every code point', () => {
    const trimmed: number[] = [];
    for (let c = 0; c <= 0x10ffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      if (`a${String.fromCodePoint(c)}`.trim() === 'a') trimmed.push(c);
    }
    expect(trimmed).toEqual(JS_TRIM_CODE_POINTS);
  });
});
