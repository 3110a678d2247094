/**
 * Replication slot safety (docs/operations.md "Slot safety"): a PostgreSQL logical slot makes
 * the server keep every WAL segment from its restart_lsn on. A bridge that is down, held back
 * or slower than the writes lets that grow until the server's disk fills (or, with
 * max_slot_wal_keep_size, until the server invalidates the slot and capture must start over
 * with a snapshot). Every `intervalMs` this reads how much WAL the slot retains over a
 * short-lived connection, exports it to /metrics, and reports the source `lagging` while it is
 * more than the source's `maxSlotLag`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readSlotLag, type SlotLag } from '../../capture/postgres/slot-lag.ts';
import type { SourceConfig } from '../config/index.ts';
import { DEFAULT_MAX_SLOT_LAG_BYTES } from '../config/schema.ts';
import { formatSize } from '../config/size.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { slotRetainedBytes, slotUnconfirmedBytes } from './registry.ts';

export const SLOT_CHECK_INTERVAL_MS = 5_000;

/** What /api/sources shows of the slot. */
export interface SlotView extends SlotLag {
  maxBytes: number;
  checkedAt: string;
}

export interface SlotWatchOptions {
  source: SourceConfig;
  log: Logger;
  signal: AbortSignal;
  /** Called when `lagging` changes. */
  onChange: (lagging: boolean) => void;
  /** Called with every reading (undefined: no slot). */
  onSample?: (view: SlotView | undefined) => void;
  intervalMs?: number;
  read?: (url: string, slot: string) => Promise<SlotLag | undefined>;
}

export class SlotWatch {
  lagging = false;
  latest: SlotView | undefined;
  readonly maxBytes: number;
  private readonly done: Promise<void>;

  constructor(private readonly options: SlotWatchOptions) {
    this.maxBytes = options.source.maxSlotLagBytes ?? DEFAULT_MAX_SLOT_LAG_BYTES;
    this.done = this.loop();
  }

  /** Why the source is lagging, in a sentence (for the status subject and /api/sources). */
  get reason(): string | undefined {
    if (!this.lagging || !this.latest) return undefined;
    return `replication slot ${this.latest.slot} retains ${formatSize(this.latest.retainedBytes)} of WAL, more than maxSlotLag ${formatSize(this.maxBytes)}`;
  }

  /** Reads the slot once now (also what the loop does every interval). */
  async check(): Promise<void> {
    const { source, log } = this.options;
    let lag: SlotLag | undefined;
    try {
      lag = await (this.options.read ?? readSlotLag)(source.url, source.slot);
    } catch (error) {
      // The source may be down: its job reports that. The last reading stays.
      log.debug({ slot: source.slot, err: errorMessage(error) }, 'cannot read the replication slot lag');
      return;
    }
    if (lag === undefined) {
      // No slot (yet, or polling): nothing is retained for us.
      this.latest = undefined;
      this.options.onSample?.(undefined);
      slotRetainedBytes.remove(source.name, source.slot);
      slotUnconfirmedBytes.remove(source.name, source.slot);
      this.setLagging(false, undefined);
      return;
    }
    this.latest = { ...lag, maxBytes: this.maxBytes, checkedAt: new Date().toISOString() };
    this.options.onSample?.(this.latest);
    slotRetainedBytes.labels(source.name, source.slot).set(lag.retainedBytes);
    slotUnconfirmedBytes.labels(source.name, source.slot).set(lag.unconfirmedBytes);
    this.setLagging(lag.retainedBytes > this.maxBytes, lag);
  }

  private setLagging(lagging: boolean, lag: SlotLag | undefined): void {
    if (lagging === this.lagging) return;
    this.lagging = lagging;
    const { source, log } = this.options;
    if (lagging) {
      log.warn(
        { event: 'slot_lagging', slot: source.slot, retainedBytes: lag?.retainedBytes, maxSlotLagBytes: this.maxBytes, walStatus: lag?.walStatus },
        `source ${source.name}: ${this.reason}; the server keeps that WAL on disk until the bridge catches up ` +
          `(see docs/postgres-capture.md "max_slot_wal_keep_size")`,
      );
    } else {
      log.info(
        { event: 'slot_caught_up', slot: source.slot, retainedBytes: lag?.retainedBytes ?? 0, maxSlotLagBytes: this.maxBytes },
        `source ${source.name}: replication slot ${source.slot} retains ${formatSize(lag?.retainedBytes ?? 0)}, within maxSlotLag again`,
      );
    }
    this.options.onChange(lagging);
  }

  private async loop(): Promise<void> {
    const { signal } = this.options;
    while (!signal.aborted) {
      await this.check();
      await sleep(this.options.intervalMs ?? SLOT_CHECK_INTERVAL_MS, undefined, { signal }).catch(() => undefined);
    }
    slotRetainedBytes.remove(this.options.source.name, this.options.source.slot);
    slotUnconfirmedBytes.remove(this.options.source.name, this.options.source.slot);
  }

  /** Resolves once the loop ended (after the signal aborted). */
  stopped(): Promise<void> {
    return this.done;
  }
}
