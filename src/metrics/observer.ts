/**
 * What capture code reports to the bridge while an attempt runs: snapshot progress and
 * polling passes. The bridge makes one per source (src/runtime/bridge.ts) and hands it to the
 * capture module with the rest of its options (CaptureContext.observer, LogSourceOptions.observer),
 * which pass it on to the shared helpers (capture/snapshot-progress.ts, capture/poll/engine.ts).
 * Outside an attempt (`hms-sync snapshot`, tests) there is none and the helpers only log.
 *
 * It was carried in an AsyncLocalStorage until 2026-12-05: on node 20 that turns on promise
 * hooks for every promise of the process, ~6 % of the bridge's allocation while it streams
 * (docs/benchmarks.md), for a value read a few times an attempt.
 */
import type { ProgressView } from './progress.ts';

export interface CaptureObserver {
  /** Rows a table holds (an estimate is fine), for a snapshot's total and ETA. */
  estimateRows?(table: string): Promise<number | undefined>;
  /** A snapshot's progress; undefined once the snapshot is done. */
  snapshotProgress?(view: ProgressView | undefined): void;
  /** A polling pass ended. */
  pollPass?(kind: string, durationMs: number): void;
}

/** Runs one attempt; the snapshot progress it reported to `observer` is cleared when it ends. */
export async function observeAttempt<T>(observer: CaptureObserver, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } finally {
    observer.snapshotProgress?.(undefined);
  }
}
