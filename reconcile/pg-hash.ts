/**
 * PostgreSQL's 64-bit string hash, `hashtextextended(text COLLATE "C", 0)`, in the bridge: Bob
 * Jenkins' lookup3 mixing over the UTF-8 bytes as PostgreSQL's hash_bytes_extended computes it
 * on little-endian servers (src/common/hashfn.c; stable across versions since 11, as hash
 * partitioning depends on it). Reconciliation hashes each row's canonical text with it, so a
 * side computing checksums in SQL and a side computing them here agree, at a fraction of md5's
 * cost in both places.
 *
 * A server that hashes differently (big-endian) only makes every range's checksums differ:
 * bisection then reads and compares rows, which is slower, never wrong.
 */

function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

let scratch = Buffer.allocUnsafe(4096);

/** hash_bytes_extended(bytes, seed 0) as [high 32 bits, low 32 bits], both unsigned. */
export function pgHashBytes(k: Uint8Array, length = k.length): [hi: number, lo: number] {
  let a = (0x9e3779b9 + length + 3923095) | 0;
  let b = a;
  let c = a;
  let i = 0;
  let len = length;
  while (len >= 12) {
    a = (a + (k[i]! | (k[i + 1]! << 8) | (k[i + 2]! << 16) | (k[i + 3]! << 24))) | 0;
    b = (b + (k[i + 4]! | (k[i + 5]! << 8) | (k[i + 6]! << 16) | (k[i + 7]! << 24))) | 0;
    c = (c + (k[i + 8]! | (k[i + 9]! << 8) | (k[i + 10]! << 16) | (k[i + 11]! << 24))) | 0;
    // mix(a, b, c)
    a = (a - c) | 0; a ^= rot(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rot(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 4); b = (b + a) | 0;
    i += 12;
    len -= 12;
  }
  // The last 0-11 bytes, little-endian into a, b and c (the low byte of c stays free).
  if (len >= 11) c = (c + (k[i + 10]! << 24)) | 0;
  if (len >= 10) c = (c + (k[i + 9]! << 16)) | 0;
  if (len >= 9) c = (c + (k[i + 8]! << 8)) | 0;
  if (len >= 8) b = (b + (k[i + 7]! << 24)) | 0;
  if (len >= 7) b = (b + (k[i + 6]! << 16)) | 0;
  if (len >= 6) b = (b + (k[i + 5]! << 8)) | 0;
  if (len >= 5) b = (b + k[i + 4]!) | 0;
  if (len >= 4) a = (a + (k[i + 3]! << 24)) | 0;
  if (len >= 3) a = (a + (k[i + 2]! << 16)) | 0;
  if (len >= 2) a = (a + (k[i + 1]! << 8)) | 0;
  if (len >= 1) a = (a + k[i]!) | 0;
  // final(a, b, c)
  c ^= b; c = (c - rot(b, 14)) | 0;
  a ^= c; a = (a - rot(c, 11)) | 0;
  b ^= a; b = (b - rot(a, 25)) | 0;
  c ^= b; c = (c - rot(b, 16)) | 0;
  a ^= c; a = (a - rot(c, 4)) | 0;
  b ^= a; b = (b - rot(a, 14)) | 0;
  c ^= b; c = (c - rot(b, 24)) | 0;
  return [b >>> 0, c >>> 0];
}

/** hashtextextended(text, 0) of a string (its UTF-8 bytes), as [high, low] unsigned 32-bit halves. */
export function pgHashText(text: string): [hi: number, lo: number] {
  const max = text.length * 3;
  if (max > scratch.length) scratch = Buffer.allocUnsafe(Math.max(max, scratch.length * 2));
  const length = scratch.write(text, 0, 'utf8');
  return pgHashBytes(scratch, length);
}
