import type { Logger } from '../src/log.ts';
import type { CaptureObserver } from '../src/metrics/observer.ts';
import { ProgressMeter, type ProgressView } from '../src/metrics/progress.ts';
import type { ChangeBatch, RawChange, SnapshotProgress } from '../src/ports.ts';

export interface SnapshotChunk<Key> {
  changes: RawChange[];
  /** The chunk's last key: where the next chunk (or a restarted snapshot) starts. */
  lastKey: Key[];
  done: boolean;
}

/**
 * A log-capture snapshot, table by table in name order, skipping tables already done and
 * continuing a table after its recorded last key. Every chunk is yielded with the progress
 * up to it as the checkpoint, so what the pipeline confirms is exactly what JetStream holds;
 * a last, empty batch marks the snapshot done.
 *
 * Progress (rows read of the table's estimated rows, rate, ETA) is logged as `event:
 * 'progress'` lines every few seconds and handed to `onProgress` and to the attempt's capture
 * observer (src/metrics/observer.ts), which shows it in /api/sources.
 */
export async function* snapshotWithProgress<Point, Key, C>(options: {
  tables: Iterable<string>;
  progress: SnapshotProgress<Point, Key>;
  readTable: (table: string, afterKey: Key[] | undefined) => AsyncIterable<SnapshotChunk<Key>>;
  checkpoint: (progress: SnapshotProgress<Point, Key>) => C;
  log: Logger;
  signal: AbortSignal;
  /** The attempt's observer (src/metrics/observer.ts): progress, and row estimates unless `estimateRows` is given. */
  observer?: CaptureObserver;
  /** Rows a table holds (an estimate is fine); default: the capture observer's estimate. */
  estimateRows?: (table: string) => Promise<number | undefined>;
  onProgress?: (view: ProgressView | undefined) => void;
}): AsyncGenerator<ChangeBatch<C>> {
  let { progress } = options;
  const { observer } = options;
  const estimateRows = options.estimateRows ?? observer?.estimateRows;
  const report = (view: ProgressView | undefined): void => {
    options.onProgress?.(view);
    observer?.snapshotProgress?.(view);
  };
  const sourceName = String((options.log.bindings?.() as { source?: unknown } | undefined)?.source ?? '');
  for (const name of [...options.tables].sort()) {
    const recorded = progress.tables[name];
    if (recorded?.done) continue;
    let rows = 0;
    const total = estimateRows ? await estimateRows(name).catch(() => undefined) : undefined;
    const meter = new ProgressMeter({ task: 'snapshot', source: sourceName, table: name, total, log: options.log });
    report(meter.view());
    for await (const chunk of options.readTable(name, recorded?.lastKey)) {
      rows += chunk.changes.length;
      meter.update(rows);
      report(meter.view());
      progress = {
        ...progress,
        tables: { ...progress.tables, [name]: chunk.done ? { done: true } : { done: false, lastKey: chunk.lastKey } },
      };
      yield { changes: chunk.changes, checkpoint: options.checkpoint(progress) };
      if (options.signal.aborted) return;
    }
    meter.finish();
    options.log.info({ table: name, rows }, `snapshot of ${name} read`);
  }
  report(undefined);
  yield { changes: [], checkpoint: options.checkpoint({ ...progress, status: 'done' }) };
}

/** What a DBA does to take a new snapshot of a log source whose resume point is lost or unusable. */
export function resnapshotHint(stateKey: string, keepLogs: string): string {
  return (
    `To take a new snapshot: stop the bridge, delete key ${stateKey} from the offsets bucket ` +
    `(nats kv del <nats.offsetsBucket, default hms_sync_offsets> ${stateKey}) and start it again; ${keepLogs}`
  );
}
