/**
 * Position epochs: which capture method a source's envelopes come from, and the prefix that
 * keeps their positions in commit order across a change of method.
 *
 * A consumer applies an envelope only if its position is greater than the one it holds, and
 * positions of different methods do not compare (a poll position starts with a 13-digit time,
 * a PostgreSQL one with 16 hex digits, a binlog one with a 10-digit file number). So each change
 * of capture method starts a new epoch, and envelopes of epoch n >= 1 carry
 * `~<n as 4 decimal digits>-<the method's own position>`: '~' sorts after every digit and
 * letter, so every position of a later epoch sorts after every position of an earlier one,
 * and within an epoch the method's own order holds. Epoch 0 is the positions as they always
 * were (no prefix), so sources that never switch keep their positions.
 *
 * The record lives in the offsets bucket under `method.<source>`.
 */
import type { OffsetStore } from '../ports.ts';

export type PositionMethod = 'log' | 'poll';

export interface MethodRecord {
  method: PositionMethod;
  epoch: number;
  /** When this epoch began (ISO 8601). */
  since: string;
  /** Why (a sentence), for operators. */
  reason?: string;
}

export const MAX_EPOCH = 9999;

export function methodKey(sourceName: string): string {
  return `method.${sourceName}`;
}

/** The prefix of an epoch's positions: '' for epoch 0, else `~0001-`. */
export function epochPrefix(epoch: number): string {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) throw new RangeError(`position epoch ${epoch} out of range 0..${MAX_EPOCH}`);
  return epoch === 0 ? '' : `~${String(epoch).padStart(4, '0')}-`;
}

/** A method's own position placed in an epoch. */
export function epochPosition(epoch: number, position: string): string {
  return epochPrefix(epoch) + position;
}

const PREFIXED = /^~(\d{4})-(.*)$/s;

/** Splits an envelope position into its epoch and the method's own position. */
export function splitEpoch(position: string): { epoch: number; position: string } {
  const m = PREFIXED.exec(position);
  return m ? { epoch: Number(m[1]), position: m[2]! } : { epoch: 0, position };
}

/**
 * The record for a source that has none yet (a bridge from before epochs, or a first start):
 * whatever the source emitted so far was epoch 0 of the method whose state is in the bucket.
 * Poll state (`poll.<source>`) means it was polled; log state (`postgres.<source>`,
 * `mysql.<source>`) means log capture; neither means nothing was emitted yet, so the method
 * chosen now owns epoch 0 (a fresh source starts without a prefix whatever its method).
 */
export function inferMethodRecord(found: { pollState: boolean; logState: boolean }, chosen: PositionMethod, now = new Date()): MethodRecord {
  const method: PositionMethod = found.pollState ? 'poll' : found.logState ? 'log' : chosen;
  const reason = found.pollState
    ? 'inferred: poll state in the offsets bucket'
    : found.logState
      ? 'inferred: log capture state in the offsets bucket'
      : 'first start';
  return { method, epoch: 0, since: now.toISOString(), reason };
}

/** Reads the source's method record; infers and writes it when there is none. */
export async function loadMethodRecord(offsets: OffsetStore, sourceName: string, chosen: PositionMethod): Promise<MethodRecord> {
  const stored = await offsets.get<MethodRecord>(methodKey(sourceName));
  if (stored && (stored.method === 'log' || stored.method === 'poll') && Number.isInteger(stored.epoch)) return stored;
  const [poll, pg, my] = await Promise.all([
    offsets.get(`poll.${sourceName}`),
    offsets.get(`postgres.${sourceName}`),
    offsets.get(`mysql.${sourceName}`),
  ]);
  const record = inferMethodRecord({ pollState: poll !== undefined, logState: pg !== undefined || my !== undefined }, chosen);
  await offsets.put(methodKey(sourceName), record);
  return record;
}

/** The record of the next epoch, under another method. */
export function nextEpoch(current: MethodRecord, method: PositionMethod, reason: string, now = new Date()): MethodRecord {
  if (current.epoch >= MAX_EPOCH) throw new RangeError(`position epoch ${current.epoch} cannot grow past ${MAX_EPOCH}`);
  return { method, epoch: current.epoch + 1, since: now.toISOString(), reason };
}

/** The record as it is now, without inferring (undefined: none yet, i.e. epoch 0). */
export async function readMethodRecord(offsets: { get<T>(key: string): Promise<T | undefined> }, sourceName: string): Promise<MethodRecord | undefined> {
  return offsets.get<MethodRecord>(methodKey(sourceName));
}

/**
 * The source's position space as readers (reconcile, resync, snapshot) see it, without writing
 * anything: the record, or what the bridge would infer from the state in the bucket.
 */
export async function currentPositionSpace(
  get: (key: string) => Promise<unknown>,
  sourceName: string,
): Promise<{ method: PositionMethod; epoch: number; prefix: string }> {
  const record = (await get(methodKey(sourceName))) as MethodRecord | undefined;
  if (record && (record.method === 'log' || record.method === 'poll') && Number.isInteger(record.epoch)) {
    return { method: record.method, epoch: record.epoch, prefix: epochPrefix(record.epoch) };
  }
  const polled = (await get(`poll.${sourceName}`)) !== undefined;
  const logged = !polled && ((await get(`postgres.${sourceName}`)) !== undefined || (await get(`mysql.${sourceName}`)) !== undefined);
  const inferred = inferMethodRecord({ pollState: polled, logState: logged }, 'log');
  return { method: inferred.method, epoch: 0, prefix: '' };
}
