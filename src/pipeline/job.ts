import { setTimeout as sleep } from 'node:timers/promises';
import { HmsSyncError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';

export type SourceState = 'starting' | 'online' | 'offline';

export interface JobOptions {
  name: string;
  log: Logger;
  /** One attempt: opens fresh connections and runs until it fails or the signal aborts. */
  attempt: (signal: AbortSignal, markOnline: () => void) => Promise<void>;
  onState?: (state: SourceState, reason?: string) => void;
}

/**
 * The long-lived job around attempts. The wait before the next attempt depends on what
 * failed: a refused connection is retried soon (with back-off), a bad password or a missing
 * grant waits long (a person has to act), and every wait ends at once on SIGTERM.
 */
export async function runJob(options: JobOptions, signal: AbortSignal): Promise<void> {
  let failures = 0;
  let state: SourceState = 'starting';
  const setState = (next: SourceState, reason?: string): void => {
    if (next === state) return;
    state = next;
    options.onState?.(next, reason);
  };
  while (!signal.aborted) {
    try {
      await options.attempt(signal, () => {
        failures = 0;
        setState('online');
      });
      if (signal.aborted) return;
      failures = 0;
    } catch (error) {
      if (signal.aborted) return;
      failures += 1;
      const delay = retryDelayMs(error, failures);
      setState('offline', errorMessage(error));
      options.log.error(
        { event: 'attempt_failed', source: options.name, code: error instanceof HmsSyncError ? error.code : undefined, retryInMs: delay },
        errorMessage(error),
      );
      await sleep(delay, undefined, { signal }).catch(() => undefined);
    }
  }
}

export function retryDelayMs(error: unknown, failures: number): number {
  const backoff = (base: number, cap: number): number => Math.min(cap, base * 2 ** Math.min(failures - 1, 10));
  if (error instanceof HmsSyncError) {
    switch (error.code) {
      case 'SOURCE_AUTH':
      case 'SOURCE_PRIVILEGE':
      case 'CONFIG':
      case 'MAPPING':
        return 60_000;
      case 'SOURCE_STATE':
        return backoff(1_000, 30_000);
      default:
        return backoff(500, 15_000);
    }
  }
  return backoff(500, 15_000);
}
