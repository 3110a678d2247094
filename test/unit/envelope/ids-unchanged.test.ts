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
