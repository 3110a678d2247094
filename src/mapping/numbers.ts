/**
 * Exact number text. Decimals are never parsed into a JS number: numeric(38,10) has more
 * digits than a double holds, and the envelope must carry what the database stored.
 */

const INTEGER_TEXT = /^([+-]?)(\d+)(?:\.0+)?$/;
const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Exponents beyond this are refused: they come from no real column, only from garbage. */
const MAX_EXPONENT = 10_000;
const NON_ZERO_DIGIT = /[1-9]/;

function stripLeadingZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
  return i === 0 ? digits : digits.slice(i);
}

/**
 * Whether `text` is already what normalization gives: `-?(0|[1-9][0-9]*)`, followed, when
 * `fraction`, by an optional `.` and one or more digits; never a negative zero. What databases
 * send is nearly always in this form, and checking it by character codes allocates nothing,
 * where the regular expressions below make a match array and substrings for every value.
 */
function isCanonical(text: string, fraction: boolean): boolean {
  const n = text.length;
  let i = text.charCodeAt(0) === 45 ? 1 : 0; // '-'
  const negative = i === 1;
  if (i >= n) return false;
  let nonZero = false;
  const first = text.charCodeAt(i);
  if (first === 48) {
    i++; // a lone leading '0'
  } else {
    if (first < 49 || first > 57) return false;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
    }
    nonZero = true;
  }
  if (i < n) {
    if (!fraction || text.charCodeAt(i) !== 46 || i + 1 === n) return false; // '.' and at least one digit
    for (i++; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return false;
      if (c !== 48) nonZero = true;
    }
  }
  return !negative || nonZero;
}

/** "+007" -> "7", "-0" -> "0", "12.000" -> "12"; undefined if not an integer. */
export function normalizeIntegerText(text: string): string | undefined {
  if (isCanonical(text, false)) return text;
  const m = INTEGER_TEXT.exec(text);
  if (m === null) return undefined;
  const digits = stripLeadingZeros(m[2]!);
  return m[1] === '-' && digits !== '0' ? `-${digits}` : digits;
}

/**
 * Plain decimal text, exact: sign '+' and redundant leading zeros dropped, trailing zeros
 * (the scale) kept, exponent forms expanded ("1e-07" -> "0.0000001", "1.5E+3" -> "1500").
 * Undefined for anything else (NaN, Infinity, garbage).
 */
export function normalizeDecimal(text: string): string | undefined {
  if (isCanonical(text, true)) return text;
  const m = DECIMAL_TEXT.exec(text);
  if (m === null) return undefined;
  const intPart = m[2]!;
  const fracPart = m[3] ?? '';
  if (intPart === '' && fracPart === '') return undefined;
  let digits = intPart + fracPart;
  let scale = fracPart.length;
  if (m[4] !== undefined) {
    const exponent = Number(m[4]);
    if (Math.abs(exponent) > MAX_EXPONENT) return undefined;
    scale -= exponent;
  }
  let result: string;
  if (scale <= 0) {
    result = stripLeadingZeros(digits + '0'.repeat(-scale));
  } else {
    if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
    const point = digits.length - scale;
    result = `${stripLeadingZeros(digits.slice(0, point))}.${digits.slice(point)}`;
  }
  const isZero = !NON_ZERO_DIGIT.test(result);
  return m[1] === '-' && !isZero ? `-${result}` : result;
}
