import { describe, expect, it } from 'vitest';
import {
  canonicalDecimal,
  canonicalFieldText,
  canonicalJson,
  canonicalKeyText,
  canonicalTimestamp,
  compareCodePoints,
  compareDecimalText,
  hashRow,
  keyComparator,
  rowText,
} from '../../../reconcile/normalize.ts';
import { field } from '../../fixtures/mapping-helpers.ts';

describe('normalization of mapped values', () => {
  it('decimal scale does not matter: 12.30 = 12.3, 12.000 = 12, -0.00 = 0', () => {
    const amount = field('amount', 'AMT', { type: 'decimal' });
    expect(canonicalFieldText(amount, '12.30')).toBe(canonicalFieldText(amount, '12.3'));
    expect(canonicalFieldText(amount, 12.3)).toBe('12.3');
    expect(canonicalFieldText(amount, '12.000')).toBe('12');
    expect(canonicalFieldText(amount, '-0.00')).toBe('0');
    expect(canonicalFieldText(amount, '1e-7')).toBe('0.0000001');
    expect(canonicalFieldText(amount, '12.31')).not.toBe(canonicalFieldText(amount, '12.3'));
    expect(canonicalDecimal('007.50')).toBe('7.5');
    expect(canonicalDecimal('abc')).toBeUndefined();
  });

  it('integers given as numbers or as text compare equal', () => {
    const n = field('n', 'N', { type: 'integer' });
    const big = field('big', 'BIG', { type: 'bigint' });
    expect(canonicalFieldText(n, 42)).toBe(canonicalFieldText(n, '42'));
    expect(canonicalFieldText(big, '9007199254740993')).toBe('9007199254740993');
  });

  it('timestamp precision does not matter: .000Z = Z, .500000 = .5, +00:00 = Z, other zones converted', () => {
    const ts = field('at', 'AT', { type: 'timestamp' });
    expect(canonicalFieldText(ts, '2024-09-02T10:00:00.000Z')).toBe('2024-09-02T10:00:00Z');
    expect(canonicalFieldText(ts, '2024-09-02T10:00:00Z')).toBe('2024-09-02T10:00:00Z');
    expect(canonicalFieldText(ts, '2024-09-02T10:00:00.500000Z')).toBe('2024-09-02T10:00:00.5Z');
    expect(canonicalFieldText(ts, '2024-09-02T10:00:00.123456Z')).toBe('2024-09-02T10:00:00.123456Z');
    expect(canonicalFieldText(ts, '2024-09-02T10:00:00+00:00')).toBe('2024-09-02T10:00:00Z');
    expect(canonicalFieldText(ts, '2024-09-02 12:00:00+02')).toBe('2024-09-02T10:00:00Z');
    expect(canonicalTimestamp('not a time')).toBeUndefined();
    expect(canonicalFieldText(ts, '2024-09-02T10:00:01Z')).not.toBe(canonicalFieldText(ts, '2024-09-02T10:00:00Z'));
  });

  it('trailing CHAR blanks do not matter, leading ones and inner ones do', () => {
    const name = field('name', 'NAME');
    expect(canonicalFieldText(name, 'AB      ')).toBe('AB');
    expect(canonicalFieldText(name, ' AB')).toBe(' AB');
    expect(canonicalFieldText(name, 'A B')).not.toBe(canonicalFieldText(name, 'AB'));
  });

  it('NULL and empty are equal only where the mapping says "" means NULL', () => {
    const plain = field('note', 'NOTE');
    const nullable = field('note', 'NOTE', { nullIf: [''] });
    expect(canonicalFieldText(plain, '')).toBe('');
    expect(canonicalFieldText(plain, null)).toBeNull();
    expect(canonicalFieldText(nullable, '')).toBeNull();
    expect(canonicalFieldText(nullable, '   ')).toBeNull();
    expect(rowText([canonicalFieldText(plain, '')])).not.toBe(rowText([canonicalFieldText(plain, null)]));
  });

  it('booleans, dates, bytes and JSON in their several spellings', () => {
    expect(canonicalFieldText(field('b', 'B', { type: 'boolean' }), 't')).toBe('true');
    expect(canonicalFieldText(field('b', 'B', { type: 'boolean' }), false)).toBe('false');
    expect(canonicalFieldText(field('d', 'D', { type: 'date' }), '2024-09-02T00:00:00Z')).toBe('2024-09-02');
    expect(canonicalFieldText(field('x', 'X', { type: 'bytes' }), '\\x0a1b')).toBe(Buffer.from([0x0a, 0x1b]).toString('base64'));
    const json = field('j', 'J', { type: 'json' });
    expect(canonicalFieldText(json, { b: 1, a: [1, 2] })).toBe(canonicalFieldText(json, '{"a":[1,2],"b":1}'));
    // jsonb's own key order: shorter keys first.
    expect(canonicalJson({ bb: 1, a: { z: null, y: 'x' } })).toBe('{"a": {"y": "x", "z": null}, "bb": 1}');
  });

  it('row text is injective: a comma or quote inside a value cannot fake a field boundary', () => {
    expect(rowText(['a,b'])).not.toBe(rowText(['a', 'b']));
    expect(rowText(['a","b'])).not.toBe(rowText(['a', 'b']));
    expect(rowText(['a\\', 'b'])).not.toBe(rowText(['a\\",b']));
    expect(rowText([null, ''])).toBe('(,"")');
    expect(rowText(['é😀', 'x y', 'say "hi"', 'a\\b', '(1)'])).toBe('(é😀,"x y","say ""hi""","a\\\\b","(1)")');
  });

  it('hashes normalized rows: formatting noise gives the same hash, a real change does not', () => {
    const spec = { fields: [field('id', 'ID', { type: 'integer' }), field('amount', 'AMT', { type: 'decimal' })], keyFields: [field('id', 'ID', { type: 'integer' })] };
    expect(hashRow(spec, { id: 1, amount: '12.30' })).toEqual(hashRow(spec, { id: '1', amount: '12.3' }));
    expect(hashRow(spec, { id: 1, amount: '12.31' })).not.toEqual(hashRow(spec, { id: 1, amount: '12.3' }));
  });
});

describe('key order', () => {
  it('orders text like UTF-8 bytes (COLLATE "C"), not like UTF-16 code units', () => {
    const astral = '\u{1F600}';
    const bmpHigh = '\uFF5E';
    expect(astral < bmpHigh).toBe(true); // JS: surrogate 0xD83D < 0xFF5E
    expect(compareCodePoints(astral, bmpHigh)).toBeGreaterThan(0);
    expect(Buffer.compare(Buffer.from(astral), Buffer.from(bmpHigh))).toBeGreaterThan(0);
    const words = ['b', 'B', 'a', 'é', 'Z', 'ab', '', bmpHigh, astral];
    const byBytes = [...words].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...words].sort(compareCodePoints)).toEqual(byBytes);
  });

  it('orders numbers exactly, beyond doubles', () => {
    const sorted = ['-10', '-9.5', '0', '0.001', '2', '10', '9007199254740993', '9007199254740994'];
    expect([...sorted].reverse().sort(compareDecimalText)).toEqual(sorted);
  });

  it('composite keys order field by field, each by its kind', () => {
    const compare = keyComparator(['text', 'number']);
    const keys = [['b', '1'], ['a', '10'], ['a', '9'], ['a', '-1'], ['B', '100']];
    expect(keys.sort(compare)).toEqual([['B', '100'], ['a', '-1'], ['a', '9'], ['a', '10'], ['b', '1']]);
  });

  it('timestamp keys order by instant whatever their fraction', () => {
    const compare = keyComparator(['timestamp']);
    const a = canonicalKeyText(field('at', 'AT', { type: 'timestamp' }), '2024-01-01T00:00:00.000Z');
    const b = canonicalKeyText(field('at', 'AT', { type: 'timestamp' }), '2024-01-01T00:00:00.5Z');
    expect(a).toBe('2024-01-01T00:00:00Z');
    expect(compare([a], [b])).toBeLessThan(0);
  });

  it('keys keep their blanks: two keys differing in blanks are two rows', () => {
    const code = field('code', 'CODE');
    expect(canonicalKeyText(code, 'A  ')).not.toBe(canonicalKeyText(code, 'A'));
    expect(canonicalKeyText(field('id', 'ID', { type: 'integer' }), 7)).toBe(canonicalKeyText(field('id', 'ID', { type: 'integer' }), '007'));
  });
});
