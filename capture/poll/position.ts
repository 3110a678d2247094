/**
 * Positions of polled changes: `<pass start, ms since epoch, 13 digits>-<pass number, 8 hex>-
 * <change index in the pass, 8 hex>`, e.g. `1732200000000-0000002A-00000003`. Fixed width, so
 * plain string order is pass order, then detection order inside a pass. The time comes first
 * so that a bridge whose state was lost (pass numbers start again) still sorts after what it
 * sent before; the start of a pass is never before the previous pass's start + 1 ms, so a
 * clock stepping back does not reorder passes either.
 */
import { hex8 } from '../../src/util/hex8.ts';

const WIDTH_MS = 13;
const PATTERN = /^(\d{13})-([0-9A-F]{8})-([0-9A-F]{8})$/;

export interface PollPosition {
  startMs: number;
  pass: number;
  index: number;
}

export function pollPosition(startMs: number, pass: number, index: number): string {
  if (!Number.isSafeInteger(startMs) || startMs < 0 || startMs >= 10 ** WIDTH_MS) throw new RangeError(`pass start ${startMs} out of range`);
  if (!Number.isInteger(pass) || pass < 0 || pass > 0xffffffff) throw new RangeError(`pass number ${pass} out of range`);
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw new RangeError(`change index ${index} out of range`);
  return `${String(startMs).padStart(WIDTH_MS, '0')}-${hex8(pass)}-${hex8(index)}`;
}

export function parsePollPosition(position: string): PollPosition | undefined {
  const m = PATTERN.exec(position);
  if (!m) return undefined;
  return { startMs: Number(m[1]), pass: parseInt(m[2]!, 16), index: parseInt(m[3]!, 16) };
}

/** When the next pass starts: now, but never at or before the previous pass's start. */
export function nextPassStart(now: number, previousStartMs: number | undefined): number {
  return previousStartMs === undefined ? now : Math.max(now, previousStartMs + 1);
}
