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
 * (docs/benchmarks.md). Here the listener is called directly, at once, and awaited only when
 * it returns a promise (the batch queue is full, a TOAST value is read back): then the socket
 * is paused, the messages queued meanwhile are handed over in order after it, and the socket
 * resumes when the queue is empty. A throwing or rejecting listener is reported as the
 * service's 'error', and the next message is handed over.
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
  /** Hands one message over; a promise when the listener must be waited for. */
  const handOver = (message: { lsn: string; data: Pgoutput.Message }): Promise<void> | undefined => {
    try {
      return listener(message.lsn, message.data);
    } catch (error) {
      service.emit('error', error);
      return undefined;
    }
  };
  /** After a listener's promise: the rest of the queue, in order, with the socket paused. */
  const drain = async (waiting: Promise<void>): Promise<void> => {
    let pending: Promise<void> | undefined = waiting;
    for (;;) {
      if (pending) {
        try {
          await pending;
        } catch (error) {
          service.emit('error', error);
        }
      }
      if (internals._messageQueue.length === 0 || internals._stop) break;
      pending = handOver(internals._messageQueue.shift()!);
    }
    internals._processing = false;
    if (!internals._stop) internals._connection?.stream?.resume?.();
  };
  internals._processQueue = () => {
    if (internals._processing || internals._stop) return;
    // The library calls this for every message it queues. While the listener takes each one
    // at once, they are handed over here and then: no pause and resume of the socket, no
    // promise and no tick a message (the library's loop, and this module's first version,
    // paused and resumed the stream around every message: ~265 bytes a row, and two events).
    while (internals._messageQueue.length > 0 && !internals._stop) {
      const pending = handOver(internals._messageQueue.shift()!);
      if (pending) {
        internals._processing = true;
        internals._connection?.stream?.pause?.();
        void drain(pending);
        return;
      }
    }
  };
}
