/**
 * Positions of Oracle changes: `<commit SCN, 20 decimal digits>-<index, 8 hex>`.
 *
 * The commit SCN orders transactions by commit (LogMiner's COMMIT_SCN). Several transactions
 * can share one commit SCN, so the index counts every change of every transaction committed at
 * that SCN, from 1, in the order LogMiner returns them (by transaction, then by redo order),
 * and a checkpoint is only taken once every transaction at that SCN was read. Snapshot rows
 * carry the snapshot's SCN with index 0: the snapshot reads the tables AS OF that SCN, so it
 * holds every transaction committed at or before it, and the stream starts after it.
 *
 * SCNs are kept as decimal text (they can pass 2^53) and compared as BigInt. 20 digits hold
 * any unsigned 64-bit SCN.
 */
import { HmsSyncError } from '../../src/errors.ts';
import { hex8 } from '../../src/util/hex8.ts';

export function scnText(scn: string | number | bigint): string {
  const text = String(scn).trim();
  if (!/^\d+$/.test(text)) throw new HmsSyncError('SOURCE_STATE', `invalid SCN "${text}"`);
  if (text.length > 20) throw new HmsSyncError('INTERNAL', `SCN ${text} does not fit a 20-digit position`);
  return text.replace(/^0+(?=\d)/, '');
}

export function oraclePosition(commitScn: string | number | bigint, index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) throw new HmsSyncError('INTERNAL', `change index ${index} does not fit 8 hex digits`);
  return `${scnText(commitScn).padStart(20, '0')}-${hex8(index)}`;
}

export function snapshotPosition(scn: string): string {
  return oraclePosition(scn, 0);
}

export function compareScn(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x === y ? 0 : x < y ? -1 : 1;
}

export function minScn(a: string, b: string): string {
  return compareScn(a, b) <= 0 ? a : b;
}

/** The parts of a position (for tests and messages). */
export function parseOraclePosition(position: string): { commitScn: string; index: number } {
  const m = /^(\d{20})-([0-9A-F]{8})$/.exec(position);
  if (!m) throw new HmsSyncError('INTERNAL', `not an Oracle position: ${position}`);
  return { commitScn: scnText(m[1]!), index: parseInt(m[2]!, 16) };
}
