import type { Logger } from '../src/log.ts';
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
 */
export async function* snapshotWithProgress<Point, Key, C>(options: {
  tables: Iterable<string>;
  progress: SnapshotProgress<Point, Key>;
  readTable: (table: string, afterKey: Key[] | undefined) => AsyncIterable<SnapshotChunk<Key>>;
  checkpoint: (progress: SnapshotProgress<Point, Key>) => C;
  log: Logger;
  signal: AbortSignal;
}): AsyncGenerator<ChangeBatch<C>> {
  let { progress } = options;
  for (const name of [...options.tables].sort()) {
    const recorded = progress.tables[name];
    if (recorded?.done) continue;
    let rows = 0;
    for await (const chunk of options.readTable(name, recorded?.lastKey)) {
      rows += chunk.changes.length;
      progress = {
        ...progress,
        tables: { ...progress.tables, [name]: chunk.done ? { done: true } : { done: false, lastKey: chunk.lastKey } },
      };
      yield { changes: chunk.changes, checkpoint: options.checkpoint(progress) };
      if (options.signal.aborted) return;
    }
    options.log.info({ table: name, rows }, `snapshot of ${name} read`);
  }
  yield { changes: [], checkpoint: options.checkpoint({ ...progress, status: 'done' }) };
}
