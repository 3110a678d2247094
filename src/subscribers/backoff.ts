/**
 * Delay before attempt `attempt + 1` after `attempt` failed: exponential from `initialMs`,
 * capped at `maxMs`, then "equal jitter" (half fixed, half random), so subscribers that failed
 * together do not all come back in the same millisecond, while the delay still grows.
 */
export function backoffDelayMs(attempt: number, backoff: { initialMs: number; maxMs: number }, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
