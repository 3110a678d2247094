/**
 * Positions of SQL Server changes: `<__$start_lsn, 20 hex>-<__$seqval, 20 hex>-<index, 8 hex>`.
 *
 * __$start_lsn is the commit LSN of the change's transaction (every change of one transaction
 * shares it, and commit LSNs order transactions by commit); __$seqval orders the changes
 * inside the transaction (an update's before and after rows share it); the index is 1, or 1 and
 * 2 for an update that changed the key itself (`d` for the old key, then `c` for the new).
 * Snapshot rows carry the LSN the snapshot started at, a zero seqval and index 0, so they sort
 * before every change committed after that LSN. LSNs are binary(10): 20 upper-case hex digits.
 */
import { HmsSyncError } from '../../src/errors.ts';
import { hex8 } from '../../src/util/hex8.ts';

export const ZERO_LSN = '0'.repeat(20);

export function lsnHex(value: string | Uint8Array): string {
  const hex = (typeof value === 'string' ? value.replace(/^0x/i, '') : Buffer.from(value).toString('hex')).toUpperCase();
  if (!/^[0-9A-F]{1,20}$/.test(hex)) throw new HmsSyncError('SOURCE_STATE', `invalid LSN "${String(value)}"`);
  return hex.padStart(20, '0');
}

export function mssqlPosition(startLsn: string | Uint8Array, seqval: string | Uint8Array, index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) throw new HmsSyncError('INTERNAL', `change index ${index} does not fit 8 hex digits`);
  return `${lsnHex(startLsn)}-${lsnHex(seqval)}-${hex8(index)}`;
}

export function snapshotPosition(lsn: string): string {
  return mssqlPosition(lsn, ZERO_LSN, 0);
}

/** LSNs as fixed-width upper-case hex compare as strings. */
export function compareLsn(a: string, b: string): number {
  const x = lsnHex(a);
  const y = lsnHex(b);
  return x === y ? 0 : x < y ? -1 : 1;
}

export function lsnBuffer(lsn: string): Buffer {
  return Buffer.from(lsnHex(lsn), 'hex');
}
