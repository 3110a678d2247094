import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { HmsSyncError } from '../errors.ts';
import type { OutgoingMessage, Sink } from '../ports.ts';
import { readAcksFromConnection } from './ack-reader.ts';
import { HpubWriter, NO_FRAME, SUBJECT_OFFSET } from './hpub-frames.ts';
import { InflightWindow } from './inflight-window.ts';

export interface PublisherOptions {
  /** Upper bound on unacknowledged publishes (back-pressure to capture beyond it). */
  maxInflight: number;
  /** Re-send a message whose ack has not arrived after this long (same Nats-Msg-Id: deduped). */
  ackTimeoutMs: number;
  /** Give up on a message after this many sends: the attempt fails and restarts from the last checkpoint. */
  maxSends: number;
  onResend?: (subject: string, sends: number, reason: string) => void;
  /** Called once per acknowledged message with the milliseconds from its (last) send to the ack (metrics). */
  onAck?: (latencyMs: number) => void;
}

/**
 * A message in flight. Nothing in it is made for the message: the frame is bytes in a shared
 * slab (its place kept as numbers), the subject is read from those bytes, and the entry itself
 * is taken from a pool and goes back to it at the ack. Entries and slabs outlive several young
 * generation collections (the ack comes ~80 ms later at a full window), so whatever a message
 * kept until its ack was copied twice and then promoted, to die in the old generation and cost
 * a full collection every ~0.7 s (docs/benchmarks.md, "Nothing a message makes stays alive until its ack").
 */
class Inflight {
  seq = 0;
  /** The whole HPUB frame (hpub-frames.ts) is buffer[start, end): written once, sent as it is again on a re-send. */
  buffer: Buffer = NO_FRAME;
  start = 0;
  end = 0;
  subjectLength = 0;
  sentAt = 0;
  sends = 0;
  /** Publishes of the same subject waiting for this one's ack (allocated when one waits). */
  waiters: Array<() => void> | undefined = undefined;
}

/** The subject of an entry's message, read from its frame: for error messages and onResend (the hot path compares bytes: sameSubject). */
function subjectOf(entry: Inflight): string {
  return entry.buffer.toString('latin1', entry.start + SUBJECT_OFFSET, entry.start + SUBJECT_OFFSET + entry.subjectLength);
}

/** Whether the entry's frame carries this subject (subjects are printable ASCII: one byte a character). */
function sameSubject(entry: Inflight, subject: string): boolean {
  if (entry.subjectLength !== subject.length) return false;
  const buffer = entry.buffer;
  const at = entry.start + SUBJECT_OFFSET;
  for (let i = 0; i < subject.length; i++) if (buffer[at + i] !== subject.charCodeAt(i)) return false;
  return true;
}

const decoder = new TextDecoder();
/** How every JetStream PubAck begins (`{"stream":"NAME","seq":N,...}`). */
const PUB_ACK_START = Buffer.from('{"stream":');
const ERROR_FIELD = Buffer.from('"error"');

/**
 * Pipelined JetStream publisher: one reply subscription for all acks, a bounded number of
 * messages in flight, and at most one unacknowledged message per subject.
 *
 * Why one per subject: if two changes to one key were in flight and the first were lost
 * (a connection drop between them, or a 503 while the stream leader moves), a re-send would
 * land after the second and break per-key commit order. Different keys still pipeline fully.
 *
 * `ackedThrough` is the highest sequence with everything at or below it acknowledged; the
 * pipeline confirms a source checkpoint only once it has passed the checkpoint's sequence.
 */
export class JetStreamPublisher implements Sink {
  /** The messages in flight, by sequence and by subject (inflight-window.ts). */
  private readonly inflight: InflightWindow<Inflight>;
  /** Entries of acknowledged messages, to be used again (at most maxInflight). */
  private readonly pool: Inflight[] = [];
  private readonly inbox: string;
  private readonly writer: HpubWriter;
  private readonly subscription: Subscription;
  private readonly stopReadingAcks: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  private seq = 0;
  /** Acks taken from the connection's bytes by ack-reader.ts (the rest came through the subscription). */
  acksReadDirectly = 0;
  /** In-flight count at or below which publishes held back for capacity go on. */
  private readonly resumeAt: number;
  private capacityWaiters: Array<() => void> = [];
  private ackWaiters: Array<{ seq: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  private failure: HmsSyncError | undefined;
  private closed = false;
  private connected = true;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: PublisherOptions,
  ) {
    this.inflight = new InflightWindow<Inflight>(sameSubject, options.maxInflight);
    this.resumeAt = Math.max(0, options.maxInflight - Math.max(1, Math.floor(options.maxInflight / 4)));
    this.writer = new HpubWriter(nc);
    this.inbox = createInbox();
    this.subscription = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => this.onReply(err, msg) });
    // Acks straight from the connection's bytes where the client allows it (ack-reader.ts);
    // the subscription's callback takes the rest.
    this.stopReadingAcks = readAcksFromConnection(nc, this.inbox, this.subscription, (seq, data, start, end) => {
      this.acksReadDirectly += 1;
      this.onAck(seq, data, start, end);
    });
    this.timer = setInterval(() => this.resendOverdue(), Math.max(100, Math.floor(options.ackTimeoutMs / 4)));
    this.timer.unref();
    void this.watchConnection();
  }

  /**
   * While the client reconnects, nothing is re-sent (its buffer would fill with copies) and
   * nothing counts against maxSends. After a reconnect, everything still in flight may have
   * died with the old socket, so all of it is re-sent in sequence order (deduped by id).
   */
  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (this.closed) return;
      if (status.type === 'disconnect') this.connected = false;
      if (status.type === 'reconnect') {
        this.connected = true;
        for (const entry of this.inflight.entries()) {
          entry.sends = 0;
          this.send(entry);
        }
      }
    }
  }

  get lastSequence(): number {
    return this.seq;
  }

  get ackedThrough(): number {
    // Sequences are settled out of order but numbered in order: everything below the lowest
    // one still in flight is acknowledged.
    return this.inflight.lowest - 1;
  }


  /**
   * Hands the message to the connection. Returns undefined when that happened at once (the
   * common case), a promise when it must wait for capacity or for its subject's previous
   * message. Not awaiting in the common case matters: the client flushes its write buffer in a
   * microtask, so an await per message would cost one socket write per message.
   */
  publish(message: OutgoingMessage): Promise<void> | undefined {
    const hash = this.inflight.subjectHash(message.subject);
    if (!this.failure && !this.inflight.bySubject(message.subject, hash) && this.inflight.size < this.options.maxInflight) {
      this.enqueue(message, hash);
      return undefined;
    }
    return this.publishWhenReady(message);
  }

  private async publishWhenReady(message: OutgoingMessage): Promise<void> {
    for (;;) {
      this.throwIfFailed();
      const sameSubject = this.inflight.bySubject(message.subject);
      if (sameSubject) {
        await new Promise<void>((resolve) => (sameSubject.waiters ??= []).push(resolve));
        continue;
      }
      if (this.inflight.size >= this.options.maxInflight) {
        await new Promise<void>((resolve) => this.capacityWaiters.push(resolve));
        continue;
      }
      break;
    }
    this.enqueue(message);
  }

  private enqueue(message: OutgoingMessage, hash?: number): void {
    const writer = this.writer;
    writer.write(message, this.inbox, this.seq + 1);
    const entry = this.pool.pop() ?? new Inflight();
    entry.seq = ++this.seq;
    entry.buffer = writer.buffer;
    entry.start = writer.start;
    entry.end = writer.end;
    entry.subjectLength = message.subject.length;
    entry.sentAt = 0;
    entry.sends = 0;
    this.inflight.add(entry, message.subject, hash);
    this.send(entry);
  }

  waitAcked(seq: number, signal?: AbortSignal): Promise<void> {
    this.throwIfFailed();
    if (this.ackedThrough >= seq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.ackWaiters = this.ackWaiters.filter((w) => w !== waiter);
        reject(new HmsSyncError('ABORTED', 'aborted while waiting for JetStream acknowledgements'));
      };
      const waiter = {
        seq,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      this.ackWaiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stops resending and fails every waiter; unacknowledged messages stay unconfirmed at the source. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.fail(new HmsSyncError('ABORTED', 'publisher closed'));
    this.stopReadingAcks?.();
    this.subscription.unsubscribe();
  }

  private send(entry: Inflight): void {
    entry.sentAt = Date.now();
    entry.sends += 1;
    try {
      this.writer.send(entry.buffer, entry.start, entry.end);
    } catch (error) {
      // A closed connection cannot recover: fail the attempt. A full buffer while reconnecting
      // shows up as a missing ack and is re-sent by the timer.
      if (this.nc.isClosed()) this.fail(new HmsSyncError('NATS', 'NATS connection closed', { cause: error, retryable: true }));
    }
  }

  private onReply(err: Error | null, msg: Msg): void {
    if (err) {
      this.fail(new HmsSyncError('NATS', `ack subscription failed: ${err.message}`, { cause: err, retryable: true }));
      return;
    }
    const seq = this.ackSequence(msg);
    if (msg.headers?.hasError) {
      const entry = this.inflight.get(seq);
      if (!entry) return; // an ack for a message already acknowledged (a re-send's duplicate ack)
      // 503 no responders: the stream is not reachable right now (starting, leader election).
      // Leave it in flight; the timer re-sends it.
      this.options.onResend?.(subjectOf(entry), entry.sends, `status ${msg.headers.code}`);
      entry.sentAt = Date.now() - this.options.ackTimeoutMs / 2;
      return;
    }
    this.onAck(seq, msg.data, 0, msg.data.length);
  }

  /** An ack without headers, `data[start..end)`, for the message numbered `seq`; from either path (ack-reader.ts). */
  private onAck(seq: number, data: Uint8Array, start: number, end: number): void {
    const entry = this.inflight.get(seq);
    if (!entry) return; // an ack for a message already acknowledged (a re-send's duplicate ack)
    // The common case, a PubAck without an error, needs no JSON parse: it is recognized by its
    // opening bytes and the absence of an "error" field (anything else is parsed in full).
    if (startsWith(data, start, end, PUB_ACK_START) && indexOf(data, start, end, ERROR_FIELD) < 0) {
      this.options.onAck?.(Date.now() - entry.sentAt);
      this.settle(entry);
      return;
    }
    let ack: { stream?: string; seq?: number; duplicate?: boolean; error?: { code: number; err_code?: number; description: string } };
    try {
      ack = JSON.parse(decoder.decode(data.subarray(start, end)));
    } catch {
      this.fail(new HmsSyncError('PUBLISH', `unreadable JetStream ack for ${subjectOf(entry)}`));
      return;
    }
    if (ack.error) {
      const retryable = ack.error.code >= 500;
      if (retryable && entry.sends < this.options.maxSends) return; // re-sent by the timer
      this.fail(
        new HmsSyncError('PUBLISH', `JetStream rejected ${subjectOf(entry)}: ${ack.error.description} (code ${ack.error.code})`, {
          retryable,
        }),
      );
      return;
    }
    this.options.onAck?.(Date.now() - entry.sentAt);
    this.settle(entry);
  }

  /**
   * The sequence an ack's subject ends in (`<inbox>.<seq>`; NaN if it is not one). Read from the
   * subject's bytes where the client keeps them (@nats-io/nats-core 3.x: `_msg.subject`),
   * without decoding the subject into a string for every ack; from `msg.subject` otherwise.
   */
  private ackSequence(msg: Msg): number {
    const raw = (msg as unknown as { _msg?: { subject?: unknown } })._msg?.subject;
    if (!(raw instanceof Uint8Array)) return Number(msg.subject.slice(this.inbox.length + 1));
    const start = this.inbox.length + 1;
    if (raw.length <= start || raw.length > start + 15) return NaN;
    let seq = 0;
    for (let i = start; i < raw.length; i++) {
      const digit = raw[i]! - 0x30;
      if (digit < 0 || digit > 9) return NaN;
      seq = seq * 10 + digit;
    }
    return seq;
  }

  private settle(entry: Inflight): void {
    this.inflight.delete(entry);
    const waiters = entry.waiters;
    // Back to the pool, holding nothing: not its slab (which would stay alive for it), not its waiters.
    entry.seq = 0;
    entry.buffer = NO_FRAME;
    entry.waiters = undefined;
    this.pool.push(entry);
    if (waiters) for (const wake of waiters) wake();
    // Capacity comes back at a low-water mark, not with every ack: at a full window each ack
    // would otherwise let exactly one message out, each in its own socket write (the client
    // flushes per microtask), and the bridge and nats-server would trade one small write and
    // one small ack at a time. Released together, the waiting publishes go out as one write.
    const capacity = this.capacityWaiters;
    if (capacity.length > 0 && this.inflight.size <= this.resumeAt) {
      this.capacityWaiters = [];
      for (const wake of capacity) wake();
    }
    if (this.ackWaiters.length > 0) {
      // Once per ack: look before building any array (usually no waiter is due yet).
      const through = this.ackedThrough;
      let due = false;
      for (const w of this.ackWaiters) if (w.seq <= through) due = true;
      const ready = due ? this.ackWaiters.filter((w) => w.seq <= through) : [];
      if (ready.length > 0) {
        this.ackWaiters = this.ackWaiters.filter((w) => w.seq > through);
        for (const w of ready) w.resolve();
      }
    }
  }

  private resendOverdue(): void {
    if (this.failure || this.closed || !this.connected) return;
    const now = Date.now();
    for (const entry of this.inflight.entries()) {
      if (now - entry.sentAt < this.options.ackTimeoutMs) continue;
      if (entry.sends >= this.options.maxSends) {
        this.fail(
          new HmsSyncError('NATS', `no JetStream acknowledgement for ${subjectOf(entry)} after ${entry.sends} sends`, {
            retryable: true,
          }),
        );
        return;
      }
      this.options.onResend?.(subjectOf(entry), entry.sends, 'ack timeout');
      this.send(entry);
    }
  }

  private fail(error: HmsSyncError): void {
    if (this.failure) return;
    this.failure = error;
    clearInterval(this.timer);
    for (const w of this.ackWaiters) w.reject(error);
    this.ackWaiters = [];
    for (const wake of this.capacityWaiters) wake();
    this.capacityWaiters = [];
    for (const entry of this.inflight.entries()) if (entry.waiters) for (const wake of entry.waiters) wake();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}

/** Where `part` first occurs in `data[start..end)`, or -1 (a PubAck is ~50 bytes: a loop, no Buffer view to make). */
function indexOf(data: Uint8Array, start: number, end: number, part: Uint8Array): number {
  const last = end - part.length;
  outer: for (let i = start; i <= last; i++) {
    for (let j = 0; j < part.length; j++) if (data[i + j] !== part[j]) continue outer;
    return i;
  }
  return -1;
}

function startsWith(data: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[start + i] !== prefix[i]) return false;
  return true;
}
