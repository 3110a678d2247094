import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  /** Give up after this long. */
  timeoutMs?: number;
  /** Pause between polls. */
  intervalMs?: number;
  /** Named in the timeout error: "PostgreSQL on 127.0.0.1:5433 accepting connections". */
  what: string;
  /** Aborting stops the wait at once with the signal's reason (e.g. "the server process exited"). */
  signal?: AbortSignal;
}

/**
 * Polls `condition` until it returns something other than `false`, `undefined` or `null`, and
 * returns that value. A throw counts as "not yet" (a refused connection is the normal state of a
 * server that is still starting); the last one is reported as the cause if the deadline passes.
 */
export async function waitFor<T>(
  condition: () => Promise<T | false | undefined | null> | T | false | undefined | null,
  options: WaitForOptions,
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 50, what, signal } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    signal?.throwIfAborted();
    attempts++;
    try {
      const value = await condition();
      if (value !== false && value !== undefined && value !== null) return value as T;
    } catch (err) {
      lastError = err;
    }
    signal?.throwIfAborted();
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const last = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${what}${last}`, {
        cause: lastError,
      });
    }
    try {
      await sleep(Math.min(intervalMs, remaining), undefined, { signal });
    } catch {
      signal?.throwIfAborted();
    }
  }
}
