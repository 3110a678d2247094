/**
 * Ordering keys on the client, the way the database's ORDER BY does, where that can be known
 * for sure (see KeyOrdering). Used only to put hint-column rows into their chunk; where any
 * key column has no such ordering the engine sweeps instead of guessing.
 */
import type { SourceValue } from '../../src/mapping/types.ts';
import type { KeyOrdering, KeyValues, PollColumn } from './types.ts';

export type KeyComparator = (a: KeyValues, b: KeyValues) => number;

export function keyComparator(columns: readonly PollColumn[]): KeyComparator | undefined {
  const compare = columns.map((c) => (c.ordering ? VALUE_ORDER[c.ordering] : undefined));
  if (compare.some((c) => c === undefined)) return undefined;
  return (a, b) => {
    for (let i = 0; i < compare.length; i++) {
      const d = compare[i]!(a[i] ?? null, b[i] ?? null);
      if (d !== 0) return d;
    }
    return 0;
  };
}

type ValueOrder = (a: SourceValue, b: SourceValue) => number;

/** NULLs last, as PostgreSQL, Oracle and (for ascending order) never a primary key anyway. */
function nullsLast(inner: ValueOrder): ValueOrder {
  return (a, b) => (a === null ? (b === null ? 0 : 1) : b === null ? -1 : inner(a, b));
}

const encoder = new TextEncoder();

function asText(v: SourceValue): string {
  return typeof v === 'string' ? v : Buffer.from(v!).toString('latin1');
}

function asBytes(v: SourceValue): Uint8Array {
  return typeof v === 'string' ? encoder.encode(v) : v!;
}

const VALUE_ORDER: Record<KeyOrdering, ValueOrder> = {
  numeric: nullsLast((a, b) => compareNumbers(asText(a), asText(b))),
  // Code point order = UTF-8 byte order (JS string order is UTF-16 code units: it differs above U+FFFF).
  text: nullsLast((a, b) => Buffer.compare(asBytes(a), asBytes(b))),
  bytes: nullsLast((a, b) => Buffer.compare(asBytes(a), asBytes(b))),
  lexical: nullsLast((a, b) => (asText(a) < asText(b) ? -1 : asText(a) > asText(b) ? 1 : 0)),
};

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** Exact comparison of decimal texts ('-12.50' vs '3'); floats with exponents by value; NaN greatest. */
export function compareNumbers(a: string, b: string): number {
  const x = DECIMAL.exec(a);
  const y = DECIMAL.exec(b);
  if (!x || !y) {
    const p = Number(a);
    const q = Number(b);
    if (Number.isNaN(p) || Number.isNaN(q)) return Number.isNaN(p) ? (Number.isNaN(q) ? 0 : 1) : -1;
    return p < q ? -1 : p > q ? 1 : 0;
  }
  const sign = (m: RegExpExecArray): number => (isZero(m) ? 0 : m[1] === '-' ? -1 : 1);
  const sa = sign(x);
  const sb = sign(y);
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  const magnitude = compareMagnitude(x, y);
  return sa < 0 ? -magnitude : magnitude;
}

function isZero(m: RegExpExecArray): boolean {
  return /^0*$/.test(m[2] ?? '') && /^0*$/.test(m[3] ?? '');
}

function compareMagnitude(x: RegExpExecArray, y: RegExpExecArray): number {
  const ix = (x[2] ?? '').replace(/^0+/, '');
  const iy = (y[2] ?? '').replace(/^0+/, '');
  if (ix.length !== iy.length) return ix.length < iy.length ? -1 : 1;
  if (ix !== iy) return ix < iy ? -1 : 1;
  const fx = (x[3] ?? '').replace(/0+$/, '');
  const fy = (y[3] ?? '').replace(/0+$/, '');
  const width = Math.max(fx.length, fy.length);
  const px = fx.padEnd(width, '0');
  const py = fy.padEnd(width, '0');
  return px < py ? -1 : px > py ? 1 : 0;
}
