import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HmsSyncError } from '../../../src/errors.ts';
import { loadMappingFile, parseMapping } from '../../../src/mapping/index.ts';

const VALID = 'test/fixtures/mappings/valid';
const INVALID = 'test/fixtures/mappings/invalid';

/** The error lines parseMapping gives for a file written inline. */
function errorsOf(text: string, file = 'mappings/fhwa/T.yaml'): string[] {
  const result = parseMapping(file, text);
  expect(result.mapping).toBeUndefined();
  for (const error of result.errors) {
    expect(error).toBeInstanceOf(HmsSyncError);
    expect(error.code).toBe('MAPPING');
  }
  return result.errors.map((error) => error.message);
}

const HEAD = 'table: public.inspections\nentity: bridge_inspection\n';

describe('loadMappingFile: a valid file', () => {
  it('reads every option into the Mapping', async () => {
    const file = `${VALID}/INSPECTIONS.yaml`;
    const mapping = await loadMappingFile(file);
    expect(mapping).toEqual({
      file: path.resolve(file),
      table: 'public.inspections',
      schema: 'public',
      tableName: 'inspections',
      entity: 'bridge_inspection',
      key: ['BRG_ID'],
      fields: [
        { name: 'bridgeId', from: 'BRG_ID', type: 'string', trim: true, line: 6 },
        { name: 'nextDate', from: 'NEXT_INSP_DT', type: 'date', trim: false, format: 'yyyyMMdd', nullIf: ['0', '00000000'], line: 7 },
        {
          name: 'status',
          from: 'CODE_STS',
          type: 'string',
          trim: false,
          codes: { A: 'active', I: 'inactive', X: 'closed' },
          default: 'unknown',
          line: 8,
        },
        { name: 'active', from: 'ACT_FLG', type: 'boolean', trim: false, trueValues: ['Y'], falseValues: ['N'], line: 9 },
        { name: 'seenAt', from: 'SEEN_TS', type: 'timestamp', trim: false, timezone: 'America/Chicago', line: 10 },
      ],
      unmapped: 'ignore',
      hash: createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12),
    });
    expect(mapping.hash).toMatch(/^[0-9a-f]{12}$/);
  });

  it('keeps legacy code keys as written, JSON values as YAML types, and leaves key undefined', async () => {
    const mapping = await loadMappingFile(`${VALID}/BRIDGES.yml`);
    expect(mapping.key).toBeUndefined();
    expect('key' in mapping).toBe(false);
    expect(mapping.schema).toBe('dbo');
    expect(mapping.tableName).toBe('BRIDGES');
    expect(mapping.unmapped).toBe('keep');
    const flags = mapping.fields.find((f) => f.name === 'flags')!;
    expect(flags.codes).toEqual({ '01': 'one', '1': 'also_one', true: 'yes_text' });
    expect(flags.default).toBeNull();
    expect(mapping.fields.map((f) => f.name)).toEqual(['id', 'name', 'spanM', 'flags']);
  });

  it('the hash changes with the bytes', () => {
    const a = parseMapping('a.yaml', `${HEAD}fields:\n  id: { from: ID }\n`).mapping!;
    const b = parseMapping('a.yaml', `${HEAD}fields:\n  id: { from: ID }  # comment\n`).mapping!;
    expect(a.hash).not.toBe(b.hash);
  });

  it('splits the table on the first dot', () => {
    const mapping = parseMapping('a.yaml', 'table: legacy.dbo.T\nentity: t\nfields:\n  id: { from: ID }\n').mapping!;
    expect([mapping.schema, mapping.tableName]).toEqual(['legacy', 'dbo.T']);
  });

  it('accepts a single true/false/nullIf string and a key given as one column', () => {
    const mapping = parseMapping(
      'a.yaml',
      `${HEAD}key: ID\nfields:\n  id: { from: ID }\n  on: { from: F, type: boolean, true: J, false: "N", nullIf: 0 }\n`,
    ).mapping!;
    expect(mapping.key).toEqual(['ID']);
    expect(mapping.fields[1]).toMatchObject({ trueValues: ['J'], falseValues: ['N'], nullIf: ['0'] });
  });
});

describe('loadMappingFile: errors name file:line:col and the key path', () => {
  it.each([
    [
      'UNKNOWN_TYPE.yaml',
      ':7:41: fields.nextDate.type: unknown type "dat" (expected one of string, integer, bigint, decimal, boolean, date, timestamp, json, bytes)',
    ],
    ['UNKNOWN_KEY.yaml', ':6:5: fields.bridgeId.trimm: unknown key (did you mean "trim"?)'],
    ['DUPLICATE_FIELD.yaml', ':6:3: fields.bridgeId: duplicate key (first at line 4)'],
    ['KEY_NOT_MAPPED.yaml', ':3:15: key[1]: key column "INSP_NO" is not mapped by any field (no field has from: INSP_NO)'],
    ['UNQUALIFIED_TABLE.yaml', ':1:8: table: table must be schema-qualified (e.g. public.inspections)'],
    ['SYNTAX.yaml', ':5:3: Flow map in block collection must be sufficiently indented and end with a }'],
  ])('%s', async (name, expected) => {
    const file = `${INVALID}/${name}`;
    const error = await loadMappingFile(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HmsSyncError);
    expect((error as HmsSyncError).code).toBe('MAPPING');
    expect((error as HmsSyncError).message).toBe(`${file}${expected}`);
  });

  it('uses an absolute path as given', async () => {
    const file = path.resolve(`${INVALID}/UNKNOWN_KEY.yaml`);
    await expect(loadMappingFile(file)).rejects.toThrow(`${file}:6:5: fields.bridgeId.trimm: unknown key`);
  });

  it('a missing file', async () => {
    await expect(loadMappingFile('mappings/nope/MISSING.yaml')).rejects.toThrow(
      'mappings/nope/MISSING.yaml: cannot read mapping file (ENOENT)',
    );
  });

  it('lists every problem, one per line, in file order', async () => {
    const text = `table: public.t\nentity: Bad-Name\nfields:\n  id: { from: ID, type: integr }\nunmaped: keep\n`;
    expect(errorsOf(text)).toEqual([
      'mappings/fhwa/T.yaml:2:9: entity: an entity must match [a-z0-9_]+ (it is a subject token)',
      'mappings/fhwa/T.yaml:4:25: fields.id.type: unknown type "integr" (expected one of string, integer, bigint, decimal, boolean, date, timestamp, json, bytes)',
      'mappings/fhwa/T.yaml:5:1: unmaped: unknown key (did you mean "unmapped"?)',
    ]);
  });
});

describe('mapping rules', () => {
  it.each([
    [`${HEAD}fields:\n  id: { from: ID }\n`.replace('table: public.inspections\n', ''), '1:1: table: missing required key'],
    [`${HEAD}`, '1:1: fields: missing required key'],
    [`${HEAD}fields: {}\n`, '3:9: fields: a mapping needs at least one field'],
    [`${HEAD}fields:\n  id: { type: integer }\n`, '4:7: fields.id.from: missing required key'],
    [`${HEAD}fields:\n  1st: { from: ID }\n`, '4:3: fields.1st: a field name must match [A-Za-z_][A-Za-z0-9_]*'],
    [`${HEAD}fields:\n  id: ID\n`, '4:7: fields.id: expected a mapping, got a string'],
    ['table: public.t\nentity: status\nfields:\n  id: { from: ID }\n', '2:9: entity: reserved: dlq and status are subject tokens of the bridge itself'],
    ['table: public.t\nentity: dlq\nfields:\n  id: { from: ID }\n', '2:9: entity: reserved: dlq and status are subject tokens of the bridge itself'],
    [`${HEAD}fields:\n  id: { from: ID, format: yyyyMMdd }\n`, '4:19: fields.id.format: format applies only to type date or timestamp (this field is string)'],
    [`${HEAD}fields:\n  d: { from: D, type: date, format: yyMMdd }\n`, '4:37: fields.d.format: "yy": two-digit years are ambiguous, use yyyy'],
    [`${HEAD}fields:\n  b: { from: B, true: [Y], false: [N] }\n`, '4:17: fields.b.true: true/false apply only to type boolean (this field is string)'],
    [`${HEAD}fields:\n  b: { from: B, type: boolean, true: [Y] }\n`, '4:32: fields.b.true: give both true: and false: (a value in neither is an error, never a guess)'],
    [`${HEAD}fields:\n  b: { from: B, type: boolean, true: [Y], false: [N, Y] }\n`, '4:50: fields.b.false: "Y" is listed in both true and false'],
    [`${HEAD}fields:\n  t: { from: T, type: date, timezone: UTC }\n`, '4:29: fields.t.timezone: timezone applies only to type timestamp (this field is date)'],
    [`${HEAD}fields:\n  t: { from: T, type: timestamp, timezone: Mars/Base }\n`, '4:44: fields.t.timezone: unknown time zone "Mars/Base" (expected an IANA name such as America/Chicago)'],
    [`${HEAD}fields:\n  s: { from: S, default: x }\n`, '4:17: fields.s.default: default applies to values not listed in codes: this field has no codes'],
    [`${HEAD}fields:\n  s: { from: S, codes: { A: [1] } }\n`, '4:29: fields.s.codes.A: expected a JSON scalar (string, number, true/false or null), got a list'],
    [`${HEAD}fields:\n  s: { from: S, trim: yes }\n`, '4:23: fields.s.trim: expected true or false, got a string'],
    [`${HEAD}fields:\n  s: { from: S, nullIf: [[0]] }\n`, '4:25: fields.s.nullIf: expected a string or a list of strings, got a list'],
    [`${HEAD}unmapped: keep\nfields:\n  id: { from: ID }\n  extra: { from: X }\n`, '6:3: fields.extra: unmapped: keep puts the unmapped columns under "extra": rename this field'],
    [`${HEAD}unmapped: drop\nfields:\n  id: { from: ID }\n`, '3:11: unmapped: must be one of ignore, keep, error (got "drop")'],
    [`${HEAD}key: [ID, ID]\nfields:\n  id: { from: ID }\n`, '3:11: key[1]: column "ID" is listed twice'],
    [`${HEAD}key: []\nfields:\n  id: { from: ID }\n`, '3:6: key: must not be empty'],
    ['- a\n- b\n', '1:1: a mapping file must be a YAML mapping with table, entity and fields'],
    ['', '1:1: a mapping file must be a YAML mapping with table, entity and fields'],
  ])('%j', (text, expected) => {
    expect(errorsOf(text)).toContain(`mappings/fhwa/T.yaml:${expected}`);
  });
});
