/**
 * Binary floating-point values handed over as JS numbers (Oracle BINARY_FLOAT / BINARY_DOUBLE,
 * SQL Server real / float) -> the canonical `float` text of src/mapping/types.ts: the shortest
 * decimal that reads back as the same value, and 'NaN', 'Infinity', '-Infinity'. MySQL spells
 * exponents its own way ('1e21'), so capture/mysql/values.ts keeps its own.
 */

/** The shortest decimal text that reads back the same single-precision value. */
export function float32Text(value: number): string {
  if (!Number.isFinite(value)) return nonFiniteText(value);
  const single = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const text = Number(single.toPrecision(digits));
    if (Math.fround(text) === single) return String(text);
  }
  return String(single);
}

/** The shortest decimal text that reads back the same double (JavaScript's own number text). */
export function float64Text(value: number): string {
  if (!Number.isFinite(value)) return nonFiniteText(value);
  return String(value);
}

function nonFiniteText(value: number): string {
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}
