/**
 * What capture code reports to the bridge while an attempt runs: snapshot progress and
 * polling passes. Carried in an AsyncLocalStorage set around each attempt by the bridge
 * (src/runtime/bridge.ts), so that every capture module (postgres, mysql, oracle, polling)
 * reports through the shared helpers (capture/snapshot-progress.ts, capture/poll/poll-source.ts)
 * without each module and src/runtime/sources.ts threading one more callback through its
 * options. Outside an attempt (`hms-sync snapshot`, tests) there is no observer and the
 * helpers only log.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ProgressView } from './progress.ts';

export interface CaptureObserver {
  /** Rows a table holds (an estimate is fine), for a snapshot's total and ETA. */
  estimateRows?(table: string): Promise<number | undefined>;
  /** A snapshot's progress; undefined once the snapshot is done. */
  snapshotProgress?(view: ProgressView | undefined): void;
  /** A polling pass ended. */
  pollPass?(kind: string, durationMs: number): void;
}

const storage = new AsyncLocalStorage<CaptureObserver>();

/** Runs `fn` (an attempt) with `observer` visible to the capture code it calls. */
export function withCaptureObserver<T>(observer: CaptureObserver, fn: () => T): T {
  return storage.run(observer, fn);
}

/** The observer of the attempt this code runs in, if any. */
export function captureObserver(): CaptureObserver | undefined {
  return storage.getStore();
}

/** Runs one attempt with `observer`; its snapshot progress is cleared when the attempt ends. */
export async function observeAttempt<T>(observer: CaptureObserver, attempt: () => Promise<T>): Promise<T> {
  try {
    return await storage.run(observer, attempt);
  } finally {
    observer.snapshotProgress?.(undefined);
  }
}
