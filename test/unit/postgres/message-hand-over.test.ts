// The hand-over of replication messages taken over from pg-logical-replication's flow-control
// mode, run on the library's real service object (no server: messages are queued the way its
// copyData handler queues them, then its own _processQueue entry point is called).
import { LogicalReplicationService, type Pgoutput } from 'pg-logical-replication';
import { describe, expect, it } from 'vitest';
import { handMessagesTo } from '../../../capture/postgres/message-hand-over.ts';

interface Internals {
  _messageQueue: Array<{ lsn: string; data: Pgoutput.Message }>;
  _processing: boolean;
  _stop: boolean;
  _connection: unknown;
  _processQueue: () => void;
}

function service(): { service: LogicalReplicationService; internals: Internals; stream: string[] } {
  const service = new LogicalReplicationService({}, { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } });
  const internals = service as unknown as Internals;
  const stream: string[] = [];
  internals._stop = false; // as after replicationStart
  internals._connection = { stream: { pause: () => stream.push('pause'), resume: () => stream.push('resume') } };
  return { service, internals, stream };
}

const message = (n: number): Pgoutput.Message => ({ tag: 'origin', originLsn: `0/${n}`, originName: String(n) }) as Pgoutput.Message;
const received = (internals: Internals, ...ns: number[]): void => {
  for (const n of ns) internals._messageQueue.push({ lsn: `0/${n}`, data: message(n) });
  internals._processQueue();
};
/** A listener that records every message it is handed and holds at `lsn` until released. */
function holdingAt(s: LogicalReplicationService, lsn: string): { seen: string[]; release: () => void } {
  const seen: string[] = [];
  let release: (() => void) | undefined;
  handMessagesTo(s, (at) => {
    seen.push(at);
    return at === lsn ? new Promise<void>((resolve) => (release = resolve)) : undefined;
  });
  return { seen, release: () => release!() };
}
const until = async (done: () => boolean): Promise<void> => {
  for (let i = 0; i < 1_000 && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(done()).toBe(true);
};

describe('replication message hand-over', () => {
  it('hands messages over at once, without pausing the socket, while the listener takes each at once', () => {
    const { service: s, internals, stream } = service();
    const { seen } = holdingAt(s, 'never');
    // As the library's copyData handler does: queue one message, then call _processQueue.
    for (let n = 1; n <= 5; n++) received(internals, n);
    received(internals, 6, 7);
    expect(seen).toEqual(['0/1', '0/2', '0/3', '0/4', '0/5', '0/6', '0/7']);
    expect(stream).toEqual([]);
    expect(internals._processing).toBe(false);
    expect(internals._messageQueue).toHaveLength(0);
  });

  it('pauses the socket at a listener that returns a promise, hands the rest over in order after it, then resumes', async () => {
    const { service: s, internals, stream } = service();
    const { seen, release } = holdingAt(s, '0/2');
    received(internals, 1, 2, 3);
    expect(seen).toEqual(['0/1', '0/2']); // the first two at once, the third waits for the second's promise
    expect(stream).toEqual(['pause']);
    received(internals, 4); // more data while draining: queued behind, not handed over out of order
    expect(seen).toEqual(['0/1', '0/2']);
    release();
    await until(() => internals._processing === false);
    expect(seen).toEqual(['0/1', '0/2', '0/3', '0/4']);
    expect(stream).toEqual(['pause', 'resume']);
    expect(internals._messageQueue).toHaveLength(0);
  });

  it('reports a listener that throws or rejects as the service error, and goes on with the next message', async () => {
    const { service: s, internals } = service();
    const errors: string[] = [];
    const seen: string[] = [];
    s.on('error', (error: Error) => errors.push(error.message));
    handMessagesTo(s, (lsn) => {
      seen.push(lsn);
      if (lsn === '0/1') throw new Error('thrown at 0/1');
      if (lsn === '0/2') return Promise.reject(new Error('rejected at 0/2'));
      return undefined;
    });
    received(internals, 1, 2, 3);
    await until(() => internals._processing === false);
    expect(errors).toEqual(['thrown at 0/1', 'rejected at 0/2']);
    expect(seen).toEqual(['0/1', '0/2', '0/3']);
  });

  it('stops handing over once the service stops, and does not resume the socket', async () => {
    const { service: s, internals, stream } = service();
    const { seen, release } = holdingAt(s, '0/1');
    received(internals, 1, 2);
    internals._stop = true;
    release();
    await until(() => internals._processing === false);
    expect(seen).toEqual(['0/1']);
    expect(stream).toEqual(['pause']);
  });

  it('refuses a library without the flow-control queue, saying what to pin', () => {
    expect(() => handMessagesTo({} as LogicalReplicationService, () => undefined)).toThrow(/pin it to 2\.5\.x/);
  });
});
