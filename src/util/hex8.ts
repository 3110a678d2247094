/** How many of the smallest indexes keep their text once made (~40 bytes each). */
const CACHED = 4096;
const cache: string[] = [];

/**
 * `n` as at least 8 upper-case hex digits, zero-padded: the change index that ends every
 * position (`…-0000000A`), and a polling pass's number. Transactions are mostly small, so the texts of the first 4,096
 * indexes are made once and kept: a row's position then costs one string, not four
 * (`toString`, `toUpperCase`, `padStart` and the join).
 */
export function hex8(n: number): string {
  if (n >= 0 && n < CACHED && Number.isInteger(n)) return (cache[n] ??= format(n));
  return format(n);
}

function format(n: number): string {
  return n.toString(16).toUpperCase().padStart(8, '0');
}
