// A string field's canonical text computed in PostgreSQL (canonical-sql.ts) against
// normalize.ts canonicalFieldText of the value as the bridge reads it, for every column type
// the SQL treats differently (text and varchar through the trailing-space guard, bpchar through
// its cast, anything else through rtrim) and for a value the source trims in SQL first:
// trailing spaces, whitespace that is not a space, multibyte characters, empty and NULL values.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { FieldSpec } from '../../../src/mapping/types.ts';
import { canonicalFieldText } from '../../../reconcile/normalize.ts';
import { canonicalExprSql, canonicalSql } from '../../../reconcile/sides/canonical-sql.ts';
import { TRIM_SET } from '../../../reconcile/sides/postgres-sql-source.ts';
import { freshDatabase } from '../../support/context.ts';

const PIECES = ['a', 'Z', 'é', '東', '🚀', ' ', ' ', '  ', '\t', '\u00a0', '\u3000', '\n', "'", '"', '%', '_', '\\'];

function values(): (string | null)[] {
  const out: (string | null)[] = [null, '', ' ', '   ', 'a', 'a ', ' a', 'a  ', 'a \u00a0', 'a\u00a0 ', '東 ', '🚀  ', '\t ', ' \t', '% ', '_ '];
  let x = 7;
  for (let i = 0; i < 400; i++) {
    let text = '';
    for (let j = 0; j < i % 11; j++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      text += PIECES[x % PIECES.length];
    }
    out.push(text);
  }
  return out;
}

const COLUMNS = [
  { name: 't', ddl: 'text', typname: 'text' },
  { name: 'v', ddl: 'varchar(40)', typname: 'varchar' },
  { name: 'b', ddl: 'char(40)', typname: 'bpchar' },
  { name: 'n', ddl: 'name', typname: 'name' },
];

function spec(nullIf?: string[]): FieldSpec {
  return { name: 'f', from: 'x', type: 'string', trim: false, line: 1, ...(nullIf ? { nullIf } : {}) };
}

describe('canonical text of string fields in SQL', () => {
  it('is canonicalFieldText of the value read, for text, varchar, char(n) and other columns, trimmed in SQL or not, empty as NULL or not', async () => {
    await using db = await freshDatabase('canonstr');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(`CREATE TABLE s (i integer PRIMARY KEY, ${COLUMNS.map((c) => `${c.name} ${c.ddl}`).join(', ')})`);
      const all = values();
      await client.query(
        `INSERT INTO s SELECT i, v, v, v, v FROM unnest($1::text[]) WITH ORDINALITY AS u(v, i)`,
        [all.map((v) => (v === null ? null : v.slice(0, 20)))],
      );
      let compared = 0;
      let guarded = 0;
      for (const nullIf of [undefined, ['']]) {
        const field = spec(nullIf);
        for (const column of COLUMNS) {
          const sqlColumn = { name: column.name, typname: column.typname, category: 'S' };
          const plain = canonicalSql(field, sqlColumn);
          const trimmed = canonicalExprSql(field, `btrim(${column.name}::text, ${TRIM_SET})`, sqlColumn, true);
          if (plain.includes('LIKE')) guarded += 1;
          // raw: the value as the bridge reads it (a char(n) column padded), trimmed by the engine's JavaScript trim.
          const { rows } = await client.query<{ raw: string | null; plain: string | null; trimmed: string | null }>(
            `SELECT ${column.name} AS raw, ${plain} AS plain, ${trimmed} AS trimmed FROM s ORDER BY i`,
          );
          for (let i = 0; i < rows.length; i++) {
            const value = rows[i]!.raw;
            expect(rows[i]!.plain, `${column.ddl} ${JSON.stringify(value)} nullIf ${JSON.stringify(nullIf)}`).toBe(canonicalFieldText(field, value));
            expect(rows[i]!.trimmed, `${column.ddl} trimmed ${JSON.stringify(value)}`).toBe(canonicalFieldText(field, value === null ? null : value.trim()));
            compared += 2;
          }
        }
      }
      expect(compared).toBe(2 * COLUMNS.length * 2 * all.length);
      // text and varchar took the guarded form, with and without nullIf.
      expect(guarded).toBe(4);
      // Values that end in a space and some that do not, so both branches of the guard ran.
      const { rows: ends } = await client.query<{ spaced: string; other: string }>(
        `SELECT count(*) FILTER (WHERE t LIKE '% ')::text AS spaced, count(*) FILTER (WHERE t NOT LIKE '% ')::text AS other FROM s`,
      );
      expect(Number(ends[0]!.spaced)).toBeGreaterThan(50);
      expect(Number(ends[0]!.other)).toBeGreaterThan(50);
    } finally {
      await client.end();
    }
  });
});
