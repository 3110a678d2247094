// The bridge's row hash against PostgreSQL's own hashtextextended over random text: ASCII,
// Latin-1, CJK, emoji, separators, every length from 0 to 300 bytes.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { rowHash, rowText } from '../../../reconcile/normalize.ts';
import { pgHashText } from '../../../reconcile/pg-hash.ts';
import { rowHashSql } from '../../../reconcile/sides/canonical-sql.ts';
import { freshDatabase } from '../../support/context.ts';

const ALPHABET = ['a', 'Z', '0', ' ', ',', ':', '~', '\\', "'", '"', '(', ')', 'é', 'ß', '東', '京', '🚀', '\u00a0', '\u0085', '\u2028', '\t', '\n', '\r', '\v', '\f'];

function randomText(seed: number, length: number): string {
  let x = seed * 2654435761 + 1;
  let out = '';
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += ALPHABET[x % ALPHABET.length];
  }
  return out;
}

describe('pgHashText against PostgreSQL', () => {
  it('gives hashtextextended(text, 0) for 600 random strings', async () => {
    await using db = await freshDatabase('pghash');
    const texts: string[] = [];
    for (let i = 0; i < 600; i++) texts.push(randomText(i, i % 120));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ h: string }>(
        `SELECT hashtextextended(t COLLATE "C", 0)::text AS h FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i) ORDER BY i`,
        [texts],
      );
      const mine = texts.map((t) => {
        const [hi, lo] = pgHashText(t);
        return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
      });
      expect(rows.map((r) => r.h)).toEqual(mine);
      // Lengths in bytes, so the 12-byte blocks and every tail length were covered.
      expect(new Set(texts.map((t) => Buffer.byteLength(t) % 12)).size).toBe(12);
    } finally {
      await client.end();
    }
  });

  it('rowText and rowHash are what ROW(...)::text and rowHashSql give, NULLs, empties and quoting included', async () => {
    await using db = await freshDatabase('pgrow');
    const rows: (string | null)[][] = [];
    for (let i = 0; i < 400; i++) {
      rows.push([0, 1, 2].map((f) => (i % 7 === f ? null : i % 11 === f ? '' : randomText(i * 3 + f, (i + f) % 9))));
    }
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows: got } = await client.query<{ t: string; h: string }>(
        `SELECT ROW(a, b, c)::text AS t, ${rowHashSql(['a', 'b', 'c'])}::text AS h
           FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(a, b, c, i) ORDER BY i`,
        [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
      );
      expect(got.map((g) => g.t)).toEqual(rows.map((r) => rowText(r)));
      expect(got.map((g) => g.h)).toEqual(
        rows.map((r) => {
          const [hi, lo] = rowHash(rowText(r));
          return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
        }),
      );
    } finally {
      await client.end();
    }
  });
});
