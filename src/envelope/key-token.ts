import type { JsonValue } from '../mapping/types.ts';

/**
 * Subject-safe, injective encoding of a key's values, used as the last subject token.
 *
 * Letters, digits and '-' stand for themselves; every other UTF-8 byte is written `_XX`
 * (upper-case hex). Values are joined with '~' (which is itself always escaped inside a
 * value). An empty value is a lone `_`, which no escape sequence can be confused with, so
 * the token is never empty and decoding is unambiguous.
 */
const PLAIN = /^[A-Za-z0-9-]$/;
const encoder = new TextEncoder();

export function keyValueText(value: JsonValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

const ALL_PLAIN = /^[A-Za-z0-9-]+$/;

export function encodeKeyValue(text: string): string {
  if (text === '') return '_';
  // Most keys (numbers, codes) need no escape at all.
  if (ALL_PLAIN.test(text)) return text;
  let out = '';
  for (const char of text) {
    if (PLAIN.test(char)) {
      out += char;
      continue;
    }
    for (const byte of encoder.encode(char)) out += '_' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function keyToken(values: readonly JsonValue[]): string {
  return values.map((value) => encodeKeyValue(keyValueText(value))).join('~');
}

/** Inverse of keyToken, as text values. Throws on a token keyToken cannot produce. */
export function decodeKeyToken(token: string): string[] {
  return token.split('~').map((part) => {
    if (part === '_') return '';
    const bytes: number[] = [];
    for (let i = 0; i < part.length; ) {
      const char = part[i]!;
      if (char === '_') {
        const hex = part.slice(i + 1, i + 3);
        if (!/^[0-9A-F]{2}$/.test(hex)) throw new Error(`invalid key token "${token}"`);
        bytes.push(parseInt(hex, 16));
        i += 3;
      } else if (PLAIN.test(char)) {
        bytes.push(char.charCodeAt(0));
        i += 1;
      } else {
        throw new Error(`invalid key token "${token}"`);
      }
    }
    // ignoreBOM: a key that starts with U+FEFF decodes to itself.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(new Uint8Array(bytes));
  });
}
