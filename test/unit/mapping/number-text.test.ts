// Number text that is already canonical is returned as it came (no regular expression, no
// allocation); everything else goes through the patterns. The two paths must agree: a sign
// '+' or an extra leading zero sends the same number down the pattern path, so each generated
// text is normalized both ways.
import { describe, expect, it } from 'vitest';
import { normalizeDecimal, normalizeIntegerText } from '../../../src/mapping/numbers.ts';

/** Deterministic pseudo-random texts: digits with and without a fraction, zeros, signs. */
function* numberTexts(count: number): Generator<string> {
  let seed = 0x2545f491;
  const next = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const digits = (length: number, zeros: boolean): string => Array.from({ length }, () => (zeros && next(2) === 0 ? '0' : String(next(10)))).join('');
  for (let i = 0; i < count; i++) {
    const zeros = next(3) === 0;
    const int = next(5) === 0 ? '0' : String(1 + next(9)) + digits(next(25), zeros);
    const fraction = next(2) === 0 ? '' : `.${digits(1 + next(12), zeros)}`;
    yield int + fraction;
  }
}

describe('number text', () => {
  it('gives canonical text back as it is, and the same as the pattern path for every generated number', () => {
    let fractions = 0;
    for (const text of numberTexts(20_000)) {
      const decimal = normalizeDecimal(text);
      expect(decimal).toBe(text);
      expect(normalizeDecimal(`+${text}`)).toBe(decimal);
      expect(normalizeDecimal(`0${text}`)).toBe(decimal);
      const negative = normalizeDecimal(`-${text}`);
      expect(normalizeDecimal(`-0${text}`)).toBe(negative);
      expect(negative).toBe(/[1-9]/.test(text) ? `-${text}` : text);
      if (text.includes('.')) {
        fractions++;
        expect(normalizeIntegerText(text)).toBe(/^0*$/.test(text.split('.')[1]!) ? normalizeIntegerText(`+${text}`) : undefined);
      } else {
        expect(normalizeIntegerText(text)).toBe(text);
        expect(normalizeIntegerText(`+${text}`)).toBe(text);
        expect(normalizeIntegerText(`-${text}`)).toBe(normalizeIntegerText(`-0${text}`));
      }
    }
    expect(fractions).toBeGreaterThan(5_000);
  });

  it.each([
    ['0', '0', '0'],
    ['-0', '0', '0'],
    ['-0.000', '0.000', '0'],
    ['-0.010', '-0.010', undefined],
    ['007', '7', '7'],
    ['12.', '12', undefined],
    ['.5', '0.5', undefined],
    ['-', undefined, undefined],
    ['', undefined, undefined],
    ['1.2.3', undefined, undefined],
    ['1e3', '1000', undefined],
    ['١٢', undefined, undefined],
    ['12 ', undefined, undefined],
    ['-12', '-12', '-12'],
  ])('%j -> decimal %j, integer %j', (text, decimal, integer) => {
    expect(normalizeDecimal(text)).toBe(decimal);
    expect(normalizeIntegerText(text)).toBe(integer);
  });
});
