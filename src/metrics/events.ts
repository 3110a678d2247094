/**
 * Stable `event` values of the log lines that mark a state change (docs/operations.md
 * "Log events"). Log processors match on these, never on the message text, which may change.
 */
import type { Logger } from '../log.ts';

export const LOG_EVENTS = {
  /** A source changed state: `state` (starting, online, lagging, offline, standby), `previous`, `reason`. */
  sourceState: 'source_state',
  /** The capture method of an attempt was chosen: `capture` (log, poll), `requested`, `reason`. */
  captureMethod: 'capture_method',
  /** The replication slot retains more WAL than maxSlotLag. */
  slotLagging: 'slot_lagging',
  /** ... and is back within it. */
  slotCaughtUp: 'slot_caught_up',
  /** An attempt failed; the job retries after `retryInMs`. */
  attemptFailed: 'attempt_failed',
  /** Rows done of a snapshot or reconciliation table. */
  progress: 'progress',
  httpListening: 'http_listening',
} as const;

/** The log line of a source state change: warn for lagging and offline, info otherwise. */
export function logSourceState(log: Logger, source: string, previous: string, state: string, reason: string | undefined): void {
  const fields = { event: LOG_EVENTS.sourceState, state, previous, ...(reason !== undefined ? { reason } : {}) };
  // An offline source's reason is the attempt's error, logged on its own line (event
  // attempt_failed): the field keeps it here, the message does not say it twice.
  const message = `source ${source} is ${state}${reason !== undefined && state !== 'offline' ? `: ${reason}` : ''}`;
  if (state === 'lagging' || state === 'offline') log.warn(fields, message);
  else log.info(fields, message);
}
