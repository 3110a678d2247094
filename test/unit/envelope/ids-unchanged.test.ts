// The performance work on the hot path (one-shot hashing, the key-token fast path, the key
// token computed once for id and subject) must not change a single id, token or subject.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { entitySubject, envelopeId, keyToken, pgPosition } from '../../../src/envelope/index.ts';
import { parseMapping } from '../../../src/mapping/index.ts';
import type { Mapping, SourceColumn } from '../../../src/mapping/types.ts';
import { tableRoute, translate } from '../../../src/pipeline/translate.ts';

function slowToken(values: readonly (string | number | boolean | null)[]): string {
  // The escaping rule, character by character, as key-token.ts documents it.
  return values
    .map((value) => {
      const text = value === null ? '' : String(value);
      if (text === '') return '_';
      let out = '';
      for (const char of text) {
        if (/^[A-Za-z0-9-]$/.test(char)) out += char;
        else for (const byte of new TextEncoder().encode(char)) out += '_' + byte.toString(16).toUpperCase().padStart(2, '0');
      }
      return out;
    })
    .join('~');
}

describe('ids, key tokens and subjects after the hot-path changes', () => {
  it('envelopeId is sha256 of the JSON tuple, first 32 hex digits', () => {
    const cases: Array<[string, string, string, string, 'c' | 't' | 'dlq']> = [
      ['fhwa', '0000000001000000-00000001', 'public.t', 'B-1', 'c'],
      ['src', '0000000A0000B000-000000FF', 'legacy.counters', '', 't'],
      ['ü', '0000000001000000-00000002', 'public."odd table"', 'a~b_2E', 'dlq'],
      // Dead letters' key text joins raw values with NUL; backslashes, controls, surrogates.
      ['src', '~0001-0000000001000000-00000003', 'public.t', 'a\u0000b\\c\n', 'dlq'],
      ['src', '0000000001000000-00000004', 'public.t', '😀 \ud800 \udfff', 'c'],
      ['s\u001f', '0000000001000000-00000005', 'public.t\u007f', 'k', 'u' as 'c'],
    ];
    for (const args of cases) {
      const expected = createHash('sha256').update(JSON.stringify(args)).digest('hex').slice(0, 32);
      expect(envelopeId(...args)).toBe(expected);
    }
  });

  it('envelopeId gives the id of JSON.stringify on both of its paths, for random tuples', () => {
    // Random tuples over characters of each kind: printable ASCII, DEL, a quote, a backslash
    // and controls (JSON escapes these), Latin-1 and CJK, emoji and lone surrogates; values
    // of one kind with ASCII (the joined text must match where nothing is escaped and fall
    // back where something is), or of every kind, up to 600 characters.
    const pool = ['a', 'Z', '0', '-', '.', '~', ' ', '_', '\u007f', '"', '\\', '\u0000', '\n', '\u001f', 'é', 'ü', '日', '😀', '\ud800', '\udfff'];
    let seed = 12345;
    const next = (n: number): number => {
      // A linear congruential generator's high bits (its low bits repeat with short periods).
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor(seed / 65536) % n;
    };
    const ascii = pool.slice(0, 8);
    const text = (maxLength: number, alphabet: readonly string[]): string => {
      let out = '';
      for (let i = next(maxLength + 1); i > 0; i--) out += alphabet[next(alphabet.length)];
      return out;
    };
    const ops = ['c', 'u', 'd', 'r', 't', 'dlq'] as const;
    for (let i = 0; i < 3_000; i++) {
      // Printable ASCII alone; ASCII with one other kind of character; or every kind.
      const alphabet = i % 3 === 0 ? ascii : i % 3 === 1 ? [...ascii, pool[8 + next(pool.length - 8)]!] : pool;
      const maxLength = i % 100 === 7 ? 600 : 40;
      const args: [string, string, string, string, 'c' | 'dlq'] = [
        text(12, alphabet), text(maxLength, alphabet), text(20, alphabet), text(maxLength, alphabet), ops[next(ops.length)] as 'c',
      ];
      const expected = createHash('sha256').update(JSON.stringify(args)).digest('hex').slice(0, 32);
      expect(envelopeId(...args), JSON.stringify(args)).toBe(expected);
    }
  });

  it('keyToken takes the fast path only where escaping would change nothing', () => {
    const samples: (string | number | boolean | null)[][] = [
      ['B-1'], [42], ['abc', 'DEF-9'], [''], [null], ['a b'], ['a.b'], ['x~y'], ['_'], ['é'], ['日本'], ['😀'], [true], [-12.5], ['--'], ['A_1'],
    ];
    for (const values of samples) expect(keyToken(values)).toBe(slowToken(values));
  });

  it('translate builds the subject entitySubject gives and the id envelopeId gives', () => {
    const { mapping } = parseMapping('m.yaml', `table: public.t
entity: thing
fields:
  id: { from: id, type: string }
  n: { from: n, type: integer }
`);
    const route = tableRoute(mapping as Mapping, ['id']);
    const columns = new Map<string, SourceColumn>([
      ['id', { name: 'id', kind: 'text', nativeType: 'text' }],
      ['n', { name: 'n', kind: 'integer', nativeType: 'integer' }],
    ]);
    const ctx = { sourceName: 'src', sourceKind: 'postgres', subjectPrefix: 'hms.sync' };
    for (const id of ['plain-1', 'with space', 'ünï', '']) {
      const position = pgPosition('1/2A', 3);
      const out = translate(
        { op: 'u', table: 'public.t', position, commitTs: null, capture: 'log', row: { id, n: '7' }, before: null, keyRow: { id }, columns },
        route,
        ctx,
        'now',
      );
      expect(out.message.subject).toBe(entitySubject('hms.sync', 'src', 'thing', { id }));
      expect(out.message.msgId).toBe(envelopeId('src', position, 'public.t', keyToken([id]), 'u'));
    }
  });
});
