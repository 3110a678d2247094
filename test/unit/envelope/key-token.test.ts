import { describe, expect, it } from 'vitest';
import { decodeKeyToken, keyToken } from '../../../src/envelope/key-token.ts';

const SUBJECT_SAFE = /^[A-Za-z0-9_~-]+$/;

describe('key token', () => {
  it('leaves plain keys readable', () => {
    expect(keyToken(['B-1042'])).toBe('B-1042');
    expect(keyToken([42])).toBe('42');
  });

  it('escapes everything a subject token cannot hold', () => {
    const token = keyToken(['a.b c*>\t/', 'Zürich', '日本']);
    expect(token).toMatch(SUBJECT_SAFE);
    expect(token).not.toContain('.');
    expect(decodeKeyToken(token)).toEqual(['a.b c*>\t/', 'Zürich', '日本']);
  });

  it('is injective over composite keys, separators and escapes included', () => {
    const keys: string[][] = [
      ['a~b'],
      ['a', 'b'],
      ['a_7Eb'],
      ['', ''],
      [''],
      ['_'],
      ['__'],
      ['a', ''],
      ['', 'a'],
      ['_41'],
      ['A'],
      // A leading U+FEFF is part of the key, not a byte order mark to drop.
      ['\ufeffB-1042'],
      ['a', '\ufeff'],
    ];
    const tokens = keys.map((k) => keyToken(k));
    expect(new Set(tokens).size).toBe(keys.length);
    for (const [i, key] of keys.entries()) {
      expect(tokens[i]).toMatch(SUBJECT_SAFE);
      expect(decodeKeyToken(tokens[i]!)).toEqual(key);
    }
  });

  it('never produces an empty token', () => {
    expect(keyToken([''])).toBe('_');
  });

  it('rejects tokens it cannot have produced', () => {
    expect(() => decodeKeyToken('a_zz')).toThrow(/invalid key token/);
    expect(() => decodeKeyToken('a.b')).toThrow(/invalid key token/);
  });
});
