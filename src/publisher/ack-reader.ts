import type { NatsConnection, Subscription } from '@nats-io/transport-node';

/** Called for one ack: its reply-subject sequence and its payload, `data[start..end)`. */
export type AckHandler = (seq: number, data: Uint8Array, start: number, end: number) => void;

interface ClientParser {
  state: unknown;
  parse(buf: Uint8Array): void;
}

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * JetStream acks read from the connection's bytes before the client parses them.
 *
 * Every ack is a `MSG <inbox>.<seq> <sid>  <size>\r\n<payload>\r\n` frame (nats-server writes
 * the empty reply as a second blank). The client's parser (@nats-io/nats-core 3.x) takes it a
 * byte at a time and makes ~9 objects for it (its argument record, an array and views of the
 * arguments, the payload view, an event, a message object): ~900 bytes an ack, a fifth of
 * what the bridge allocated a row, and ~470 ns to parse it where this reader takes ~75.
 *
 * Here the connection's parser is wrapped. While it is between operations (its state is the
 * start state), each chunk is read from the front: each whole ack frame for a registered inbox
 * and subscription goes to its `onAck` without an object made. An ack frame cut by the chunk's
 * end is held (a copy of its ~100 bytes) and read with the next chunk, so the client's parser
 * stays between operations. Anything else (a PING, an INFO, a message with headers such as a
 * 503, a message of another subscription such as a KV put's reply) goes to the client's parser
 * one whole frame at a time, in order, and the reading of acks goes on after it; such a frame
 * cut by the chunk's end is held too, up to 64 KB. Only a larger cut frame, or an operation
 * this reader does not know the shape of, takes the rest of the chunk to the client's parser
 * as it came, and the client's path (the subscription's callback) then delivers the acks
 * until a chunk starts between frames again. (Handing over the rest of the chunk at the first
 * non-ack left the client's parser inside a frame at most chunk ends, and so every chunk after
 * it too: a quarter of the acks of a MariaDB catch-up took the client's path.) The client
 * replaces its parser when it reconnects: the new one is wrapped as it is set, and a held
 * piece of the old connection's bytes is dropped with the old one.
 *
 * The parser, its `parse` and its `state` are internal to the client. Where they are not what
 * is expected, nothing is wrapped and every ack takes the client's path (returns undefined).
 * test/unit/publisher/ack-reader.test.ts runs the client's own parser behind this one over a
 * stream of acks and other operations cut into chunks at every byte, at each single position
 * and in random ways.
 */
export function readAcksFromConnection(nc: NatsConnection, inbox: string, subscription: Subscription, onAck: AckHandler): (() => void) | undefined {
  const protocol = (nc as unknown as { protocol?: object }).protocol;
  const sid = typeof subscription.getID === 'function' ? subscription.getID() : undefined;
  if (!protocol || typeof sid !== 'number') return undefined;
  let readers = installed.get(protocol);
  if (!readers) {
    const parser = (protocol as { parser?: unknown }).parser;
    const descriptor = Object.getOwnPropertyDescriptor(protocol, 'parser');
    if (!isParser(parser) || !descriptor || !descriptor.writable || !descriptor.configurable) return undefined;
    // The start state is what the parser holds between operations: a new parser's state (the
    // connection's own may be in the middle of a frame right now).
    const startState = freshState(parser);
    if (startState === undefined) return undefined;
    const list: AckReader[] = [];
    const wrap = (p: ClientParser): ClientParser => {
      const parse = p.parse.bind(p);
      /** The start of an ack frame the last chunk cut (this parser's connection only). */
      let held: Uint8Array | undefined;
      p.parse = (chunk: Uint8Array): void => {
        const buf = held === undefined ? chunk : Buffer.concat([held, chunk]);
        held = undefined;
        if (p.state !== startState || list.length === 0) {
          parse(buf);
          return;
        }
        let at = 0;
        for (;;) {
          const next = readAcks(buf, at, list);
          if (next < 0) {
            held = Uint8Array.prototype.slice.call(buf, -next - 1); // a copy: the chunk's memory is the client's
            return;
          }
          at = next;
          if (at === buf.length) return;
          // Anything else goes to the client's parser one whole frame at a time, and the acks
          // after it are read here again. A frame the chunk cut is held like a cut ack, so the
          // client's parser is never left inside one; one too large to hold (or not known
          // here) goes to the client's parser with the rest of the chunk, as it came.
          const end = frameEnd(buf, at);
          if (end === CUT && buf.length - at <= MAX_HELD) {
            held = Uint8Array.prototype.slice.call(buf, at);
            return;
          }
          if (end < 0) {
            parse(at === 0 ? buf : buf.subarray(at));
            return;
          }
          parse(buf.subarray(at, end));
          at = end;
          if (p.state !== startState) {
            if (at < buf.length) parse(buf.subarray(at));
            return;
          }
        }
      };
      return p;
    };
    let current = wrap(parser);
    Object.defineProperty(protocol, 'parser', {
      configurable: true,
      enumerable: descriptor.enumerable ?? true,
      get: () => current,
      set: (next: unknown) => {
        current = isParser(next) ? wrap(next) : (next as ClientParser);
      },
    });
    readers = list;
    installed.set(protocol, list);
  }
  const reader: AckReader = { prefix: Buffer.from(`${inbox}.`, 'latin1'), sid, onAck };
  readers.push(reader);
  const list = readers;
  return () => {
    const index = list.indexOf(reader);
    if (index >= 0) list.splice(index, 1);
  };
}

interface AckReader {
  /** `<inbox>.`: the reply subject up to the sequence. */
  prefix: Uint8Array;
  sid: number;
  onAck: AckHandler;
}

/** The readers of each connection's protocol handler (wrapped once, whatever reads from it). */
const installed = new WeakMap<object, AckReader[]>();

/** The state of a new parser of the client's parser class, before its first byte. */
function freshState(parser: ClientParser): unknown {
  try {
    const fresh = new (parser.constructor as new (dispatcher: { push(): void }) => ClientParser)({ push: () => undefined });
    return isParser(fresh) ? fresh.state : undefined;
  } catch {
    return undefined;
  }
}

function isParser(value: unknown): value is ClientParser {
  return typeof value === 'object' && value !== null && typeof (value as ClientParser).parse === 'function' && 'state' in value;
}

/**
 * Reads whole ack frames of `buf` from `at`. Returns where the first byte it did not take is
 * (buf.length when it took them all), or `-(at + 1)` when everything from `at` on is the start
 * of an ack frame the chunk cut off.
 */
function readAcks(buf: Uint8Array, from: number, readers: readonly AckReader[]): number {
  let at = from;
  for (;;) {
    const next = readAck(buf, at, readers);
    if (next === NOT_AN_ACK) return at;
    if (next === CUT) return -(at + 1);
    at = next;
  }
}

/** readAck: the bytes at `at` are not a whole ack frame, nor the start of one. */
const NOT_AN_ACK = -1;
/** readAck: the bytes from `at` to the end are the start of an ack frame. */
const CUT = -2;
/** Larger than any ack (a PubAck is ~60 bytes): a frame this size is not held, whatever it is. */
const MAX_ACK_PAYLOAD = 4096;

const MSG = Buffer.from('MSG ', 'latin1');

/**
 * One ack frame at `at`: hands it over and returns the offset after it; NOT_AN_ACK (nothing
 * taken); or CUT, when the chunk ends inside what is so far an ack frame of one of `readers`.
 */
function readAck(buf: Uint8Array, at: number, readers: readonly AckReader[]): number {
  const length = buf.length;
  if (at >= length) return NOT_AN_ACK;
  const op = matchAt(buf, at, MSG);
  if (op !== MATCHED) return op;
  const subject = at + MSG.length;
  let reader: AckReader | undefined;
  let cut = false;
  for (const candidate of readers) {
    const match = matchAt(buf, subject, candidate.prefix);
    if (match === MATCHED) {
      reader = candidate;
      break;
    }
    if (match === CUT) cut = true;
  }
  if (reader === undefined) return cut ? CUT : NOT_AN_ACK;
  let i = subject + reader.prefix.length;
  // <seq>: the reply subject's last token, at most 15 digits (exact in a double).
  let seq = 0;
  const seqStart = i;
  while (i < length && isDigit(buf[i]!)) seq = seq * 10 + (buf[i++]! - 0x30);
  if (i - seqStart > 15) return NOT_AN_ACK;
  if (i === length) return CUT;
  if (i === seqStart || !isBlank(buf[i]!)) return NOT_AN_ACK;
  // Arguments are separated by blanks; nats-server writes two where the reply is empty (`<sid>  <size>`).
  while (i < length && isBlank(buf[i]!)) i++;
  // <sid>
  let sid = 0;
  const sidStart = i;
  while (i < length && isDigit(buf[i]!)) sid = sid * 10 + (buf[i++]! - 0x30);
  if (i - sidStart > 15) return NOT_AN_ACK;
  if (i === length) return CUT;
  if (i === sidStart || sid !== reader.sid || !isBlank(buf[i]!)) return NOT_AN_ACK;
  while (i < length && isBlank(buf[i]!)) i++;
  // <size>\r\n. A fourth argument (a reply subject) is not an ack's shape: the client parses it.
  let size = 0;
  const sizeStart = i;
  while (i < length && isDigit(buf[i]!)) size = size * 10 + (buf[i++]! - 0x30);
  if (size > MAX_ACK_PAYLOAD) return NOT_AN_ACK;
  if (i === length || (i + 1 === length && buf[i] === CR)) return CUT;
  if (i === sizeStart || buf[i] !== CR || buf[i + 1] !== LF) return NOT_AN_ACK;
  const start = i + 2;
  const end = start + size;
  // The payload and its CRLF.
  if (end + 2 > length) return end >= length || buf[end] === CR ? CUT : NOT_AN_ACK;
  if (buf[end] !== CR || buf[end + 1] !== LF) return NOT_AN_ACK;
  reader.onAck(seq, buf, start, end);
  return end + 2;
}

/**
 * The most of a cut frame (not an ack) held until the next chunk: larger ones (a big KV value,
 * a long INFO) go to the client's parser as they come, instead of being copied chunk by chunk.
 */
const MAX_HELD = 64 * 1024;
/** A control line longer than this is not one this reader knows: the client's parser takes it. */
const MAX_LINE = 16 * 1024;

const HMSG = Buffer.from('HMSG ', 'latin1');
/** Server operations that are one line: `PING`, `PONG`, `+OK`, `-ERR '…'`, `INFO {…}`. */
const LINE_OPS = ['PING\r\n', 'PONG\r\n', '+OK\r\n', '-ERR ', 'INFO '].map((op) => Buffer.from(op, 'latin1'));

/**
 * Where the server operation at `at` ends: after its line, or for `MSG` and `HMSG` after the
 * payload the line's last argument counts and its CRLF. CUT when the chunk ends first;
 * NOT_AN_ACK (unknown) for anything this reader does not know the shape of, which the
 * client's parser then takes with the rest of the chunk.
 */
function frameEnd(buf: Uint8Array, at: number): number {
  let sized = matchAt(buf, at, MSG);
  if (sized === NOT_AN_ACK) sized = matchAt(buf, at, HMSG);
  if (sized === CUT) return CUT;
  let line = NOT_AN_ACK;
  if (sized === NOT_AN_ACK) {
    for (const op of LINE_OPS) {
      line = matchAt(buf, at, op);
      if (line !== NOT_AN_ACK) break;
    }
    if (line === NOT_AN_ACK) return NOT_AN_ACK;
    if (line === CUT) return CUT;
  }
  // The line up to its LF.
  const limit = Math.min(buf.length, at + MAX_LINE);
  let lf = at;
  while (lf < limit && buf[lf] !== LF) lf++;
  if (lf === limit) return limit === buf.length ? CUT : NOT_AN_ACK;
  if (sized !== MATCHED) return lf + 1;
  // MSG <subject> <sid> [reply] <size>, HMSG <subject> <sid> [reply] <header size> <total size>:
  // the last argument is the payload's length.
  if (lf === at || buf[lf - 1] !== CR) return NOT_AN_ACK;
  let i = lf - 1;
  while (i > at && isBlank(buf[i - 1]!)) i--;
  let size = 0;
  let scale = 1;
  const digitsEnd = i;
  while (i > at && isDigit(buf[i - 1]!)) {
    size += (buf[--i]! - 0x30) * scale;
    scale *= 10;
  }
  if (i === digitsEnd || digitsEnd - i > 15 || !isBlank(buf[i - 1]!)) return NOT_AN_ACK;
  const end = lf + 1 + size + 2;
  return end <= buf.length ? end : CUT;
}

const MATCHED = 0;

/** MATCHED when `part` is at `at`; CUT when the buffer ends inside a match; NOT_AN_ACK otherwise. */
function matchAt(buf: Uint8Array, at: number, part: Uint8Array): number {
  const available = Math.min(part.length, buf.length - at);
  for (let i = 0; i < available; i++) if (buf[at + i] !== part[i]) return NOT_AN_ACK;
  return available === part.length ? MATCHED : CUT;
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

function isBlank(byte: number): boolean {
  return byte === SPACE || byte === TAB;
}
