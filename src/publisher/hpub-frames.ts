import type { NatsConnection } from '@nats-io/transport-node';
import { HmsSyncError } from '../errors.ts';
import type { OutgoingMessage } from '../ports.ts';
import { ByteSlab } from '../util/byte-slab.ts';

/**
 * Envelope messages as whole NATS protocol frames, written once and handed to the client as
 * they are:
 *
 *   HPUB <subject> <reply> <header bytes> <total bytes>\r\n
 *   NATS/1.0\r\nNats-Msg-Id: <id>\r\nHms-Op: <op>\r\nContent-Type: application/json\r\n\r\n
 *   <payload>\r\n
 *
 * `nc.publish` builds the same bytes for every call from four parts: a protocol line encoded
 * with a TextEncoder (a new ArrayBuffer each message), the header block encoded by a headers
 * object, the payload and a CRLF; the client then joins the parts of a write into a new array.
 * Here the frame is bytes in a shared slab (ByteSlab), written once at enqueue and sent again
 * as it is when a re-send is due; frames sent one after another are neighbours in the slab and
 * reach the client's write buffer as one part (send), which its flush writes without joining.
 * The bytes are the client's own (test/integration/publisher/hpub-frames.test.ts compares them on
 * the wire between the client and nats-server), and the header block
 * is exactly what the client's headers object encodes for the same three set() calls.
 *
 * It goes through the client's protocol handler (`protocol.sendCommand`), the same queue and
 * flush `nc.publish` ends in, so buffering while reconnecting and flushing are the client's,
 * and so is ordering with its other traffic, but for the frames of one tick, which it gets at
 * the end of the tick (send). That handler is internal to @nats-io/nats-core
 * 3.x: it is checked when a publisher starts, and a client without it is refused with a clear
 * error instead of publishing nothing.
 */
export class HpubWriter {
  /** Not aligned: frames written one after another are contiguous, and go to the client as one view (send). */
  private readonly slab = new ByteSlab(64 * 1024, false);
  private readonly protocol: ProtocolHandler;
  /** Frames sent but not yet handed to the client: run[runStart, runEnd), neighbours in one slab. */
  private run: Buffer = NO_FRAME;
  private runStart = 0;
  private runEnd = 0;
  private handOverQueued = false;
  private readonly handOverLater = (): void => {
    this.handOverQueued = false;
    try {
      this.handOver();
    } catch {
      // Thrown in a microtask it would end the process. The frames are still in flight at the
      // publisher, which sends them again when their acks are overdue.
    }
  };

  constructor(private readonly nc: NatsConnection) {
    const protocol = (nc as unknown as { protocol?: ProtocolHandler }).protocol;
    if (!protocol || typeof protocol.sendCommand !== 'function' || typeof protocol.flushPending !== 'function' || typeof protocol.noMorePublishing !== 'boolean') {
      throw new HmsSyncError(
        'INTERNAL',
        'the NATS client no longer has the protocol handler this build writes frames through (protocol.sendCommand and flushPending): pin @nats-io/transport-node to 3.4.x',
      );
    }
    this.protocol = protocol;
  }

  /**
   * The whole frame of one message. Throws if a name would break the framing, or if the
   * message is larger than the server's max_payload (a server closes the connection of a
   * client that sends one; translate dead-letters such envelopes before they get here).
   */
  frame(message: OutgoingMessage, reply: string, replySequence?: number): Buffer {
    this.write(message, reply, replySequence);
    return this.buffer.subarray(this.start, this.end);
  }

  /**
   * The frame written by the last write(): bytes [start, end) of `buffer`, a slab shared with
   * other frames. The subject is at start + SUBJECT_OFFSET, one byte a character.
   */
  buffer: Buffer = NO_FRAME;
  start = 0;
  end = 0;

  /**
   * frame() without the view: the frame's place is left in buffer, start and end. The
   * publisher keeps those for a message in flight instead of a view (a new object a message,
   * alive until its ack, that a garbage collection would have to move).
   */
  write(message: OutgoingMessage, reply: string, replySequence?: number): void {
    const { subject, msgId, op, payload } = message;
    // Printable ASCII only (checked while copying below): one character is one byte.
    const headerBytes = HEADER_FIXED + msgId.length + op.length;
    const total = headerBytes + payload.length;
    const max = this.protocol.info?.max_payload;
    if (max !== undefined && total > max) {
      throw new HmsSyncError('PUBLISH', `${subject}: a message of ${total} bytes exceeds the NATS server's max_payload of ${max} bytes`);
    }
    // Written byte by byte, not as a template string: the protocol line and header block were
    // ~600 bytes of strings a message, made to be copied once.
    // With a sequence, the reply subject is `<reply>.<sequence>`, written without a string made for it.
    const replyBytes = replySequence === undefined ? reply.length : reply.length + 1 + decimalDigits(replySequence);
    const size = 5 + subject.length + 1 + replyBytes + 1 + decimalDigits(headerBytes) + 1 + decimalDigits(total) + 2 + headerBytes + payload.length + 2;
    const buffer = this.slab.room(size);
    let at = this.slab.offset;
    at = copy(buffer, at, HPUB);
    at = token(buffer, at, subject, false, 0x20);
    if (replySequence === undefined) at = token(buffer, at, reply, false, 0x20);
    else at = decimal(buffer, token(buffer, at, reply, false, 0x2e), replySequence, 0x20);
    at = decimal(buffer, at, headerBytes, 0x20);
    at = decimal(buffer, at, total, -1);
    at = copy(buffer, at, MSG_ID);
    at = token(buffer, at, msgId, true, -1);
    at = copy(buffer, at, OP);
    at = token(buffer, at, op, true, -1);
    at = copy(buffer, at, CONTENT_TYPE);
    if (at < 0) {
      throw new HmsSyncError('INTERNAL', `a NATS frame cannot carry subject "${subject}", reply "${reply}", id "${msgId}" or op "${op}"`);
    }
    buffer.set(payload, at);
    at += payload.length;
    buffer[at++] = 0x0d;
    buffer[at++] = 0x0a;
    this.buffer = buffer;
    this.start = this.slab.offset;
    this.end = at;
    this.slab.keep(at);
  }

  /**
   * Sends the frame buffer[start, end) as `nc.publish` would, refused on a closed or draining
   * connection. Frames that follow each other in a slab are handed to the client together, as
   * one view, in a microtask queued by the first of them, or as soon as a frame that does not
   * follow them is sent: the client writes one part, not one a frame, and does not copy them all
   * into a new array to join them first (handOver). A command the client sends
   * in the same tick (the PING of an `nc.flush()`, say) goes out ahead of them; the publisher
   * waits for acks, never for a flush.
   */
  send(buffer: Buffer, start = 0, end = buffer.length): void {
    if (this.nc.isClosed()) throw new HmsSyncError('NATS', 'NATS connection closed', { retryable: true });
    if (this.protocol.noMorePublishing) throw new HmsSyncError('NATS', 'NATS connection draining', { retryable: true });
    if (buffer === this.run && start === this.runEnd) {
      this.runEnd = end;
      return;
    }
    this.handOver();
    this.run = buffer;
    this.runStart = start;
    this.runEnd = end;
    if (!this.handOverQueued) {
      this.handOverQueued = true;
      queueMicrotask(this.handOverLater);
    }
  }

  /**
   * Hands the frames sent so far to the client and has it write them at once. Left to the
   * client's own flush (a microtask queued by the first command into an empty write buffer),
   * two runs would often meet in its buffer (a run ends where a slab does, and the next is
   * handed over before that flush), and a buffer holding more than one part is copied into a
   * new array to be written: 40 % of the runs went into a buffer already holding one in the
   * bench's catch-ups (docs/benchmarks.md, "Frames handed to the client a run at a time").
   */
  private handOver(): void {
    if (this.runEnd === this.runStart) return;
    const frames = this.run.subarray(this.runStart, this.runEnd);
    this.run = NO_FRAME;
    this.runStart = this.runEnd = 0;
    this.protocol.sendCommand(frames);
    this.protocol.flushPending();
  }
}

const HPUB = Buffer.from('HPUB ', 'latin1');
/** Where a frame's subject begins, after `HPUB `. */
export const SUBJECT_OFFSET = HPUB.length;
/** No frame yet (a zero-length buffer): what `buffer` holds before the first write, and a pooled in-flight entry between messages. */
export const NO_FRAME = Buffer.alloc(0);
/** The header block is `NATS/1.0\r\nNats-Msg-Id: <id>\r\nHms-Op: <op>\r\nContent-Type: application/json\r\n\r\n`. */
const MSG_ID = Buffer.from('\r\nNATS/1.0\r\nNats-Msg-Id: ', 'latin1');
const OP = Buffer.from('\r\nHms-Op: ', 'latin1');
const CONTENT_TYPE = Buffer.from('\r\nContent-Type: application/json\r\n\r\n', 'latin1');
/** Header block bytes besides the id and the op (MSG_ID without its leading CRLF, OP, CONTENT_TYPE). */
const HEADER_FIXED = MSG_ID.length - 2 + OP.length + CONTENT_TYPE.length;

/** `bytes` at `at` (or -1 stays -1); the new end. */
function copy(buffer: Buffer, at: number, bytes: Buffer): number {
  if (at < 0) return at;
  for (let i = 0; i < bytes.length; i++) buffer[at++] = bytes[i]!;
  return at;
}

/**
 * Text at `at` and then `after` (a byte; -1 for none), or -1 if it cannot be framed (and -1
 * stays -1): subjects and reply subjects are printable ASCII without spaces; header values
 * (`inner`) may hold spaces but not begin or end with one (the client trims them), and none
 * may be empty.
 */
function token(buffer: Buffer, at: number, text: string, inner: boolean, after: number): number {
  const length = text.length;
  if (at < 0 || length === 0) return -1;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7e || c < 0x20 || (c === 0x20 && (!inner || i === 0 || i === length - 1))) return -1;
    buffer[at++] = c;
  }
  if (after >= 0) buffer[at++] = after;
  return at;
}

function decimalDigits(n: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/** A non-negative integer's decimal digits at `at`, then `after` (a byte; -1 for none). */
function decimal(buffer: Buffer, at: number, n: number, after: number): number {
  if (at < 0) return at;
  const end = at + decimalDigits(n);
  for (let i = end - 1, rest = n; i >= at; i--, rest = Math.floor(rest / 10)) buffer[i] = 0x30 + (rest % 10);
  if (after >= 0) buffer[end] = after;
  return after >= 0 ? end + 1 : end;
}

interface ProtocolHandler {
  sendCommand(command: Uint8Array): void;
  /** Writes the client's write buffer to the socket now (nothing while it is not connected: it is kept for the reconnect). */
  flushPending(): void;
  noMorePublishing: boolean;
  info?: { max_payload?: number };
}
