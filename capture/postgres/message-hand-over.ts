import type { LogicalReplicationService, Pgoutput } from 'pg-logical-replication';
import { HmsSyncError } from '../../src/errors.ts';

/** Returns a promise only when the message had to wait; the next message waits for it. */
export type MessageListener = (lsn: string, message: Pgoutput.Message) => Promise<void> | undefined;

/** The parts of pg-logical-replication 2.x's flow-control mode this module takes over. */
interface FlowControlInternals {
  _messageQueue: Array<{ lsn: string; data: Pgoutput.Message }>;
  _processing: boolean;
  _stop: boolean;
  _connection: { stream?: { pause?(): void; resume?(): void } } | null;
  _processQueue: () => void;
}

/**
 * pg-logical-replication's flow-control mode, with a leaner hand-over of each message.
 *
 * The library queues the messages of a socket read while the socket is paused and hands them
 * over one at a time, which is what the capture needs (a slow JetStream holds the WAL back,
 * no message is skipped or reordered). But it hands each one over with `emitAsync` (a
 * `Promise.all` over the listeners) and then awaits an acknowledge step, for every row:
 * ~1.7 KB of promises and arrays a row, 16 % of the bridge's allocation on PostgreSQL
 * (docs/benchmarks.md). Here the listener is called directly and awaited only when it
 * returns a promise (the batch queue is full, a TOAST value is read back); everything else
 * is the library's own loop: in order, paused while draining, resumed when the queue is empty,
 * and a throwing listener reported as the service's 'error'.
 *
 * Acknowledgement is manual (`acknowledge.auto: false`), so the library's per-message
 * acknowledge step did nothing but make a promise. The internals are checked here, so a
 * version of the library without them fails at once with a clear error instead of streaming
 * nothing.
 */
export function handMessagesTo(service: LogicalReplicationService, listener: MessageListener): void {
  const internals = service as unknown as FlowControlInternals;
  if (typeof internals._processQueue !== 'function' || !Array.isArray(internals._messageQueue) || typeof internals._processing !== 'boolean') {
    throw new HmsSyncError(
      'INTERNAL',
      'pg-logical-replication no longer has the flow-control queue this build takes over (_messageQueue, _processQueue): pin it to 2.5.x',
    );
  }
  const drain = async (): Promise<void> => {
    while (internals._messageQueue.length > 0 && !internals._stop) {
      const message = internals._messageQueue.shift()!;
      try {
        const pending = listener(message.lsn, message.data);
        if (pending) await pending;
      } catch (error) {
        service.emit('error', error);
      }
    }
    internals._processing = false;
    if (!internals._stop) internals._connection?.stream?.resume?.();
  };
  internals._processQueue = () => {
    if (internals._processing || internals._stop) return;
    internals._processing = true;
    internals._connection?.stream?.pause?.();
    void drain();
  };
}
