// The bridge's copy of PostgreSQL's hashtextextended(text, 0): values printed by PostgreSQL 15
// (SELECT hashtextextended($1::text COLLATE "C", 0)), one for each tail length 0-11 and past
// the 12-byte blocks, multibyte text included.
import { describe, expect, it } from 'vitest';
import { pgHashText } from '../../../reconcile/pg-hash.ts';
import { rowHash, rowText } from '../../../reconcile/normalize.ts';

function signed(text: string): string {
  const [hi, lo] = pgHashText(text);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}

describe('pgHashText', () => {
  it.each([
    ['', '-6939563903564495251'],
    ['abc', '-6747756470228489321'],
    ['abcd', '-1038429303365892052'],
    ['abcde', '3076356108696143428'],
    ['hello world', '6947366892317592103'],
    ['123456789012', '-3387667963766823555'],
    ['1234567890123', '2373490033053362784'],
    ['é', '-763932721387459829'],
    ['Zürich — 東京 🚀', '-3365324953129251699'],
    ['3:abc,~,5:12.50', '5393978552317267158'],
    ['"', '-5951617831106599326'],
    ['#*', '-6260730962949952623'],
    ['(/6=DKR', '-2389152861831872074'],
    [')07>ELSZ', '-8678576171589982940'],
    ['*18?FMT[b', '1242219437283159807'],
    ['+29@GNU\\cj', '5913540747816576123'],
    [',3:AHOV]dkr', '4518521685471926294'],
  ])('hashes %j as PostgreSQL does', (text, expected) => {
    expect(signed(text)).toBe(expected);
  });

  it('grows its scratch buffer for long text and still agrees with a fresh computation', () => {
    const long = 'ü'.repeat(5000);
    const first = pgHashText(long);
    expect(pgHashText('abc')).toEqual(pgHashText('abc'));
    expect(pgHashText(long)).toEqual(first);
    expect(signed('abc')).toBe('-6747756470228489321');
  });

  it('is the row hash of the row text', () => {
    const text = rowText(['7', null, 'x']);
    expect(text).toBe('(7,,x)');
    expect(rowHash(text)).toEqual(pgHashText(text));
  });
});
