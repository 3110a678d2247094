import { describe, expect, it } from 'vitest';
import { mapRow } from '../../../src/mapping/index.ts';
import type { FieldSpec, MapResult, SourceColumnKind, SourceValue } from '../../../src/mapping/types.ts';
import { columnsOf, field, mappingOf } from '../../fixtures/mapping-helpers.ts';

/** Maps one value through one field (column V, key column ID) and returns the field's result. */
function convert(spec: Partial<FieldSpec>, value: SourceValue, kind: SourceColumnKind = 'text'): MapResult {
  const mapping = mappingOf([field('id', 'ID'), field('v', 'V', spec)]);
  return mapRow(mapping, { ID: '1', V: value }, columnsOf({ ID: 'integer', V: kind }), ['ID']);
}

function valueOf(spec: Partial<FieldSpec>, value: SourceValue, kind: SourceColumnKind = 'text'): unknown {
  const result = convert(spec, value, kind);
  if (!result.ok) throw new Error(`expected a value, got error: ${result.error}`);
  return result.after.v;
}

function errorOf(spec: Partial<FieldSpec>, value: SourceValue, kind: SourceColumnKind = 'text'): string {
  const result = convert(spec, value, kind);
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.after.v)}`);
  return result.error;
}

describe('string', () => {
  it('keeps the text as stored, CHAR padding included', () => {
    expect(valueOf({ type: 'string' }, 'B-1042   ')).toBe('B-1042   ');
  });
  it('trims CHAR padding when trim is set', () => {
    expect(valueOf({ type: 'string', trim: true }, '  B-1042   ')).toBe('B-1042');
  });
  it('refuses bytes', () => {
    expect(errorOf({ type: 'string' }, new Uint8Array([1, 2]), 'bytes')).toBe(
      'field v (column V): a binary value cannot map to type string (use type bytes)',
    );
  });
});

describe('integer', () => {
  it.each([
    ['42', 42],
    ['-17', -17],
    ['+007', 7],
    ['12.000', 12],
    ['-0', 0],
    ['9007199254740991', 9007199254740991],
  ])('%s -> %s', (text, expected) => {
    expect(valueOf({ type: 'integer' }, text, 'integer')).toBe(expected);
  });
  it('gives 0, not -0', () => {
    expect(Object.is(valueOf({ type: 'integer' }, '-0', 'integer'), 0)).toBe(true);
  });
  it('refuses values beyond 2^53 and suggests bigint', () => {
    expect(errorOf({ type: 'integer' }, '9007199254740993', 'integer')).toBe(
      'field v (column V): "9007199254740993" is beyond a JSON-safe integer (±2^53-1): use type bigint',
    );
  });
  it.each(['12.5', '1e3', 'abc', '', ' 12'])('refuses %j', (text) => {
    expect(errorOf({ type: 'integer' }, text)).toBe(`field v (column V): ${JSON.stringify(text)} is not an integer`);
  });
  it('accepts padded text once trimmed', () => {
    expect(valueOf({ type: 'integer', trim: true }, '  12 ')).toBe(12);
  });
});

describe('bigint', () => {
  it.each([
    ['+007', '7'],
    ['-0', '0'],
    ['-000123', '-123'],
    ['123456789012345678901234567890', '123456789012345678901234567890'],
    ['42.00', '42'],
  ])('%s -> %s', (text, expected) => {
    expect(valueOf({ type: 'bigint' }, text, 'integer')).toBe(expected);
  });
  it('refuses a fraction', () => {
    expect(errorOf({ type: 'bigint' }, '1.5')).toBe('field v (column V): "1.5" is not an integer');
  });
});

describe('decimal', () => {
  it.each([
    ['12345678901234567890123456.0123456789', '12345678901234567890123456.0123456789'],
    ['12.3400', '12.3400'],
    ['-0.000100', '-0.000100'],
    ['+0012.50', '12.50'],
    ['0.0', '0.0'],
    ['-0.00', '0.00'],
    ['.5', '0.5'],
    ['7.', '7'],
    ['1e-07', '0.0000001'],
    ['1.5E+3', '1500'],
    ['1.50e1', '15.0'],
    ['-2.5e-3', '-0.0025'],
    ['123e-2', '1.23'],
    ['1.7976931348623157e+308', `17976931348623157${'0'.repeat(292)}`],
  ])('%s -> %s', (text, expected) => {
    expect(valueOf({ type: 'decimal' }, text, 'decimal')).toBe(expected);
  });
  it.each(['NaN', 'Infinity', '-Infinity'])('refuses %s', (text) => {
    expect(errorOf({ type: 'decimal' }, text, 'float')).toBe(`field v (column V): "${text}" is not a finite decimal number`);
  });
  it.each(['abc', '', '.', '1.2.3', '1e', '--1'])('refuses %j', (text) => {
    expect(errorOf({ type: 'decimal' }, text)).toBe(`field v (column V): ${JSON.stringify(text)} is not a decimal number`);
  });
});

describe('boolean', () => {
  it.each([
    ['true', true],
    ['t', true],
    ['1', true],
    ['Y', true],
    ['Yes', true],
    ['FALSE', false],
    ['f', false],
    ['0', false],
    ['n', false],
    ['no', false],
  ])('%s -> %s without legacy values', (text, expected) => {
    expect(valueOf({ type: 'boolean' }, text, 'boolean')).toBe(expected);
  });
  it('refuses other text', () => {
    expect(errorOf({ type: 'boolean' }, 'maybe')).toBe(
      'field v (column V): "maybe" is not a boolean (true/false, t/f, 1/0, y/n, yes/no)',
    );
  });
  it('matches legacy true/false values exactly', () => {
    const spec = { type: 'boolean' as const, trueValues: ['Y', 'J'], falseValues: ['N'] };
    expect(valueOf(spec, 'J')).toBe(true);
    expect(valueOf(spec, 'N')).toBe(false);
    expect(errorOf(spec, 'y')).toBe('field v (column V): "y" is not one of the mapping\'s boolean values (true: "Y", "J"; false: "N")');
    expect(errorOf(spec, 'true')).toContain('is not one of the mapping\'s boolean values');
  });
  it('matches legacy values after trim', () => {
    expect(valueOf({ type: 'boolean', trim: true, trueValues: ['Y'], falseValues: ['N'] }, 'Y  ')).toBe(true);
    expect(errorOf({ type: 'boolean', trueValues: ['Y'], falseValues: ['N'] }, 'Y  ')).toContain('"Y  " is not one of');
  });
});

describe('date', () => {
  it('reads a legacy integer date with a format', () => {
    expect(valueOf({ type: 'date', format: 'yyyyMMdd' }, '20240902', 'integer')).toBe('2024-09-02');
  });
  it('accepts 29 February in a leap year only', () => {
    expect(valueOf({ type: 'date', format: 'yyyyMMdd' }, '20240229')).toBe('2024-02-29');
    expect(errorOf({ type: 'date', format: 'yyyyMMdd' }, '20230229')).toBe(
      'field v (column V): invalid date "20230229" for format yyyyMMdd',
    );
    expect(valueOf({ type: 'date', format: 'yyyyMMdd' }, '20000229')).toBe('2000-02-29');
    expect(errorOf({ type: 'date', format: 'yyyyMMdd' }, '19000229')).toContain('invalid date');
  });
  it.each(['20240231', '20241341', '20240900', '2024090', '202409021', 'abcdefgh'])('refuses %s', (text) => {
    expect(errorOf({ type: 'date', format: 'yyyyMMdd' }, text)).toBe(`field v (column V): invalid date "${text}" for format yyyyMMdd`);
  });
  it('reads other legacy formats', () => {
    expect(valueOf({ type: 'date', format: 'MM/dd/yyyy' }, '09/02/2024')).toBe('2024-09-02');
    expect(valueOf({ type: 'date', format: 'M/d/yyyy' }, '9/2/2024')).toBe('2024-09-02');
    expect(valueOf({ type: 'date', format: 'dd.MM.yyyy HH:mm' }, '02.09.2024 23:59')).toBe('2024-09-02');
  });
  it('takes a date column as is, validated', () => {
    expect(valueOf({ type: 'date' }, '2024-09-02', 'date')).toBe('2024-09-02');
    expect(errorOf({ type: 'date' }, '2024-02-30', 'date')).toBe(
      'field v (column V): invalid date "2024-02-30" (expected YYYY-MM-DD)',
    );
  });
  it('refuses infinity and BC dates', () => {
    expect(errorOf({ type: 'date' }, 'infinity', 'date')).toBe('field v (column V): invalid date "infinity" (expected YYYY-MM-DD)');
    expect(errorOf({ type: 'date' }, '0044-03-15 BC', 'date')).toContain('invalid date');
    expect(errorOf({ type: 'date' }, '0000-01-01', 'date')).toContain('invalid date');
  });
  it('takes the date part of a zone-less timestamp', () => {
    expect(valueOf({ type: 'date' }, '2024-09-02 23:59:59.999999', 'timestamp')).toBe('2024-09-02');
  });
  it('takes the UTC date of a timestamp with a zone', () => {
    expect(valueOf({ type: 'date' }, '2024-09-02 23:30:00-05', 'timestamptz')).toBe('2024-09-03');
  });
});

describe('json', () => {
  it('parses JSON text', () => {
    expect(valueOf({ type: 'json' }, '{"a":[1,"x",null],"b":{"c":true}}', 'json')).toEqual({ a: [1, 'x', null], b: { c: true } });
    expect(valueOf({ type: 'json' }, '"text"', 'text')).toBe('text');
  });
  it('refuses invalid JSON', () => {
    expect(errorOf({ type: 'json' }, '{"a":', 'json')).toMatch(/^field v \(column V\): invalid JSON "\{\\"a\\":" \(/);
  });
});

describe('bytes', () => {
  it('encodes binary values in base64', () => {
    expect(valueOf({ type: 'bytes' }, new Uint8Array([0, 1, 2, 253, 254, 255]), 'bytes')).toBe('AAEC/f7/');
  });
  it('encodes a Uint8Array view over a larger buffer correctly', () => {
    const view = new Uint8Array(new Uint8Array([9, 9, 104, 105, 9]).buffer, 2, 2);
    expect(valueOf({ type: 'bytes' }, view, 'bytes')).toBe('aGk=');
  });
  it('encodes text as its UTF-8 bytes', () => {
    expect(valueOf({ type: 'bytes' }, 'héllo')).toBe(Buffer.from('héllo', 'utf8').toString('base64'));
  });
});

describe('NULL', () => {
  const types: FieldSpec['type'][] = ['string', 'integer', 'bigint', 'decimal', 'boolean', 'date', 'timestamp', 'json', 'bytes'];
  it.each(types)('stays null for type %s', (type) => {
    expect(valueOf({ type }, null)).toBeNull();
  });
  it('stays null with codes and a default', () => {
    expect(valueOf({ codes: { A: 'active' }, default: 'unknown' }, null)).toBeNull();
  });
  it('stays null with trim, nullIf and a format', () => {
    expect(valueOf({ type: 'date', format: 'yyyyMMdd', trim: true, nullIf: ['0'] }, null)).toBeNull();
  });
});

describe('nullIf', () => {
  it('turns legacy "no value" markers into null, after trim', () => {
    const spec = { type: 'date' as const, format: 'yyyyMMdd', trim: true, nullIf: ['0', '00000000'] };
    expect(valueOf(spec, '00000000')).toBeNull();
    expect(valueOf(spec, '0 ')).toBeNull();
    expect(valueOf(spec, '20240902')).toBe('2024-09-02');
  });
  it('compares exactly', () => {
    expect(errorOf({ type: 'date', format: 'yyyyMMdd', nullIf: ['0'] }, '00')).toContain('invalid date "00"');
  });
});

describe('codes', () => {
  const codes = { A: 'active', I: 'inactive', '1': 1, T: true, N: null };
  it('emits the listed value as written', () => {
    expect(valueOf({ codes }, 'A')).toBe('active');
    expect(valueOf({ codes }, '1')).toBe(1);
    expect(valueOf({ codes }, 'T')).toBe(true);
    expect(valueOf({ codes }, 'N')).toBeNull();
  });
  it('is an error for an unknown code without default', () => {
    expect(errorOf({ codes }, 'Q')).toBe('field v (column V): unknown code "Q" (no default)');
  });
  it('uses the default for unknown codes', () => {
    expect(valueOf({ codes, default: 'unknown' }, 'Q')).toBe('unknown');
    expect(valueOf({ codes, default: null }, 'Q')).toBeNull();
  });
  it('is case-sensitive and looks up after trim', () => {
    expect(errorOf({ codes }, 'a')).toBe('field v (column V): unknown code "a" (no default)');
    expect(errorOf({ codes }, 'A ')).toBe('field v (column V): unknown code "A " (no default)');
    expect(valueOf({ codes, trim: true }, 'A ')).toBe('active');
  });
  it('does not take codes from the object prototype', () => {
    expect(errorOf({ codes }, 'toString')).toBe('field v (column V): unknown code "toString" (no default)');
  });
});

describe('error messages', () => {
  it('cut the offending value to 80 characters', () => {
    const long = 'x'.repeat(200);
    const error = errorOf({ type: 'integer' }, long);
    expect(error).toBe(`field v (column V): "${'x'.repeat(80)}…" is not an integer`);
  });
});
