/**
 * Positions in the binlog.
 *
 * `source.position` of a change: `SSSSSSSSSS-OOOOOOOOOO-IIIIIIII`
 *  - S: the binlog file's sequence number (the numeric suffix of `binlog.000042`), 10 decimal digits
 *  - O: the offset in that file of the transaction's first event (its GTID event, or BEGIN),
 *       10 decimal digits; the binlog is written in commit order, so this orders transactions
 *       by commit, and it is known when the transaction starts (a large transaction is
 *       published in batches before its commit event arrives)
 *  - I: the change's index in its transaction, 8 hex digits, from 1; snapshot rows carry 0
 *
 * Snapshot rows carry the snapshot's binlog point, which is where the next transaction to
 * commit starts: `<point>-00000000` sorts before every change of that transaction and after.
 *
 * A resume point (`BinlogPoint`) is where reading continues: the end of the last transaction
 * whose changes are all in JetStream, as file:pos, with the GTID state there where the server
 * has one (MariaDB `domain-server-seq` list, MySQL `uuid:n` of the last transaction).
 */
import { HmsSyncError } from '../../src/errors.ts';
import { hex8 } from '../../src/util/hex8.ts';

export interface BinlogPoint {
  file: string;
  pos: number;
  /** MariaDB: GTID state at this point ("0-1-100,1-2-7"); MySQL: the last transaction's GTID. */
  gtid?: string;
}

const FILE_SEQUENCE = /\.(\d+)$/;

/** The numeric suffix of a binlog file name: "binlog.000042" -> 42. */
export function fileSequence(file: string): number {
  const m = FILE_SEQUENCE.exec(file);
  if (!m) throw new HmsSyncError('SOURCE_STATE', `binlog file name "${file}" has no numeric suffix`);
  return Number(m[1]);
}

function digits(value: number, width: number, what: string): string {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 10 ** width) {
    throw new HmsSyncError('INTERNAL', `${what} ${value} does not fit a ${width}-digit position`);
  }
  return String(value).padStart(width, '0');
}

/** The position of one change (index from 1) or of a snapshot row (index 0). */
export function mysqlPosition(file: string, transactionStart: number, index: number): string {
  return `${digits(fileSequence(file), 10, 'binlog file sequence')}-${digits(transactionStart, 10, 'binlog offset')}-${hex8(index)}`;
}

/** Position of snapshot rows read at `point`. */
export function snapshotPosition(point: BinlogPoint): string {
  return mysqlPosition(point.file, point.pos, 0);
}

export function comparePoints(a: BinlogPoint, b: BinlogPoint): number {
  const fa = fileSequence(a.file);
  const fb = fileSequence(b.file);
  if (fa !== fb) return fa < fb ? -1 : 1;
  return a.pos === b.pos ? 0 : a.pos < b.pos ? -1 : 1;
}

export function describePoint(point: BinlogPoint): string {
  return `${point.file}:${point.pos}${point.gtid ? ` (GTID ${point.gtid})` : ''}`;
}

/** MariaDB GTID state: one `domain-server-seq` per replication domain. */
export class MariadbGtidState {
  private readonly domains = new Map<number, string>();

  constructor(state = '') {
    for (const part of state.split(',')) {
      const gtid = part.trim();
      if (gtid === '') continue;
      const domain = Number(gtid.split('-')[0]);
      if (!Number.isInteger(domain)) throw new HmsSyncError('SOURCE_STATE', `invalid MariaDB GTID "${gtid}" in "${state}"`);
      this.domains.set(domain, gtid);
    }
  }

  set(domain: number, serverId: number, seq: bigint | number): void {
    this.domains.set(domain, `${domain}-${serverId}-${seq}`);
  }

  toString(): string {
    return [...this.domains.keys()]
      .sort((a, b) => a - b)
      .map((d) => this.domains.get(d)!)
      .join(',');
  }
}
