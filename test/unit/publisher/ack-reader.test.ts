import { Kind, Parser, type ParserEvent } from '@nats-io/nats-core/internal';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { readAcksFromConnection } from '../../../src/publisher/ack-reader.ts';

// The ack reader runs in front of the NATS client's own protocol parser (the real one here,
// from @nats-io/nats-core). Whatever the chunking of the bytes, everything must arrive once, in
// order, and as the client alone would have delivered it.

const INBOX = '_INBOX.TESTINBOX';
const SID = 7;

/** What a reader or the client delivered, in one comparable form. */
type Delivery = string;

/** A protocol handler holding the client's parser, as the connection does, and what reached it. */
function connection(): { nc: NatsConnection; protocol: { parser: Parser }; delivered: Delivery[] } {
  const delivered: Delivery[] = [];
  const dispatcher = {
    push(event: ParserEvent): void {
      switch (event.kind) {
        case Kind.MSG: {
          const subject = Buffer.from(event.msg!.subject).toString('latin1');
          const reply = event.msg!.reply ? Buffer.from(event.msg!.reply).toString('latin1') : '';
          const body = Buffer.from(event.data!).toString('latin1');
          const prefix = `${INBOX}.`;
          // An ack for our subscription without headers, as the client would hand it to the callback.
          if (event.msg!.sid === SID && event.msg!.hdr < 0 && subject.startsWith(prefix) && reply === '') {
            delivered.push(`ack ${Number(subject.slice(prefix.length))} ${body}`);
          } else {
            delivered.push(`msg ${subject} ${event.msg!.sid} ${reply} hdr=${event.msg!.hdr} ${body}`);
          }
          return;
        }
        case Kind.PING:
          delivered.push('ping');
          return;
        case Kind.PONG:
          delivered.push('pong');
          return;
        case Kind.OK:
          delivered.push('ok');
          return;
        case Kind.ERR:
        case Kind.INFO:
          delivered.push(`${event.kind === Kind.ERR ? 'err' : 'info'} ${Buffer.from(event.data!).toString('latin1')}`);
          return;
      }
    },
  };
  const protocol = { parser: new Parser(dispatcher) };
  return { nc: { protocol } as unknown as NatsConnection, protocol, delivered };
}

const subscription = (sid: number): Subscription => ({ getID: () => sid }) as unknown as Subscription;

/** An ack as nats-server 2.9 writes it: two blanks where the reply is empty (one, or a tab, also parse). */
function ack(seq: number, stream = 'S', blanks = '  '): string {
  const body = `{"stream":"${stream}", "seq":${seq}}`;
  return `MSG ${INBOX}.${seq} ${SID}${blanks}${body.length}\r\n${body}\r\n`;
}

/** A server's stream: acks, and between them everything else that shares the connection. */
function serverBytes(): string {
  const parts: string[] = [];
  const other = '{"stream":"S","seq":9,"duplicate":true}';
  const status = 'NATS/1.0 503\r\n\r\n';
  for (let seq = 1; seq <= 40; seq++) {
    parts.push(ack(seq, 'S', seq % 3 === 0 ? ' ' : seq % 5 === 0 ? ' \t ' : '  '));
    if (seq % 7 === 0) parts.push('PING\r\n');
    if (seq % 11 === 0) parts.push(`MSG other.subject 3 ${other.length}\r\n${other}\r\n`); // another subscription
    if (seq % 13 === 0) parts.push(`HMSG ${INBOX}.${seq + 100} ${SID} ${status.length} ${status.length}\r\n${status}\r\n`); // 503
    if (seq % 17 === 0) parts.push(`MSG ${INBOX}.${seq + 200} ${SID} reply.to 2\r\n{}\r\n`); // not an ack's shape
    if (seq === 20) parts.push('+OK\r\nINFO {"server_id":"x"}\r\nPONG\r\n');
    if (seq === 30) {
      // A payload that holds an ack frame's bytes: a chunk cut where they begin is not an ack.
      const inner = `MSG ${INBOX}.999 ${SID}  2\r\n{}\r\n`;
      parts.push(`MSG other.subject 3  ${inner.length}\r\n${inner}\r\n`);
    }
  }
  parts.push(ack(123456789012345)); // 15 digits: still an ack
  parts.push(`MSG ${INBOX}.1234567890123456 ${SID} 2\r\n{}\r\n`); // 16 digits: left to the client
  parts.push(ack(41, 'A "quoted" stream\r\nwith a CRLF inside'));
  return parts.join('');
}

/** Feeds `bytes` cut at `cuts` and returns every delivery (reader's and client's) in order. */
function feed(bytes: Buffer, cuts: number[], install = true): { delivered: Delivery[]; direct: number } {
  const { nc, protocol, delivered } = connection();
  let direct = 0;
  if (install) {
    const stop = readAcksFromConnection(nc, INBOX, subscription(SID), (seq, data, start, end) => {
      direct += 1;
      delivered.push(`ack ${seq} ${Buffer.from(data.subarray(start, end)).toString('latin1')}`);
    });
    expect(stop).toBeTypeOf('function');
  }
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    protocol.parser.parse(bytes.subarray(at, cut));
    at = cut;
  }
  return { delivered, direct };
}

/** The acks of serverBytes() the reader takes itself: all 43 the client counts as acks but the 16-digit one. */
const ACKS_READ_HERE = 42;

describe('acks read from the connection', () => {
  const bytes = Buffer.from(serverBytes(), 'latin1');
  const reference = feed(bytes, [], false).delivered;

  it('delivers what the client alone delivers, in order, for one chunk', () => {
    expect(reference.filter((d) => d.startsWith('ack ')).length).toBe(43);
    const { delivered, direct } = feed(bytes, []);
    expect(delivered).toEqual(reference);
    // Every ack but the one with a 16-digit sequence (the client's to parse) is read here: the
    // other frames go to the client's parser one at a time, and reading goes on after each.
    expect(direct).toBe(ACKS_READ_HERE);
  });

  it('delivers the same for a chunk cut at every byte', () => {
    const cuts = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    const out = feed(bytes, cuts);
    expect(out.delivered).toEqual(reference);
    // Frames cut by a chunk are held until whole, so the client's parser is never left inside one.
    expect(out.direct).toBe(ACKS_READ_HERE);
  });

  it('reads every ack itself, wherever chunks cut them, while nothing else comes', () => {
    const acks = Array.from({ length: 50 }, (_, i) => ack(i + 1, 'S', i % 2 === 0 ? '  ' : ' '));
    const only = Buffer.from(acks.join(''), 'latin1');
    const expected = feed(only, [], false).delivered;
    for (const step of [1, 2, 3, 7, 40, 61, 333]) {
      const cuts: number[] = [];
      for (let at = step; at < only.length; at += step) cuts.push(at);
      const out = feed(only, cuts);
      expect(out.direct).toBe(50);
      expect(out.delivered).toEqual(expected);
    }
  });

  it('delivers the same for a chunk cut at every single position, one cut at a time', () => {
    for (let cut = 1; cut < bytes.length; cut++) {
      const out = feed(bytes, [cut]);
      expect(out.delivered).toEqual(reference);
      expect(out.direct).toBe(ACKS_READ_HERE);
    }
  });

  it('delivers the same for random chunkings, and takes acks itself where frames start chunks', () => {
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 200; round++) {
      const cuts: number[] = [];
      for (let at = 0; ; ) {
        at += 1 + Math.floor(random() * 400);
        if (at >= bytes.length) break;
        cuts.push(at);
      }
      const out = feed(bytes, cuts);
      expect(out.delivered).toEqual(reference);
      expect(out.direct).toBe(ACKS_READ_HERE);
    }
    // Acks only, cut between frames: every one is read directly.
    const acks = Array.from({ length: 50 }, (_, i) => ack(i + 1));
    const only = Buffer.from(acks.join(''), 'latin1');
    const boundaries: number[] = [];
    let at = 0;
    for (const frame of acks.slice(0, -1)) boundaries.push((at += frame.length));
    const out = feed(only, boundaries.filter((_, i) => i % 5 === 0));
    expect(out.direct).toBe(50);
    expect(out.delivered).toEqual(feed(only, [], false).delivered);
  });

  it('leaves a frame too large to hold, or of a shape it does not know, to the client with the rest of the chunk', () => {
    const big = 'x'.repeat(100_000); // over the 64 KB a cut frame is held up to
    const acks = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => ack(from + i)).join('');
    const text = `${acks(1, 3)}MSG other.subject 3 ${big.length}\r\n${big}\r\n${acks(4, 6)}ping\r\n${acks(7, 9)}`;
    const all = Buffer.from(text, 'latin1');
    const expected = feed(all, [], false).delivered;
    const bigStart = text.indexOf('MSG other');
    const afterBig = text.indexOf(ack(4));
    const lower = text.indexOf('ping');
    // Cut inside the large frame, then at its end: acks 1-3 and 4-6 are read here; the
    // lower-case ping (the client accepts it) sends acks 7-9 to the client with it.
    const out = feed(all, [bigStart + 10, bigStart + 70_000, afterBig]);
    expect(out.delivered).toEqual(expected);
    expect(out.direct).toBe(6);
    // Cut inside the large frame only: the client's parser is inside it when the next chunk
    // comes, so that chunk (acks 4-6 with it) is the client's.
    const inside = feed(all, [bigStart + 70_000]);
    expect(inside.delivered).toEqual(expected);
    expect(inside.direct).toBe(3);
    // The next chunk that starts between frames is read here again.
    const later = feed(all, [bigStart + 70_000, lower + 'ping\r\n'.length]);
    expect(later.delivered).toEqual(expected);
    expect(later.direct).toBe(6);
  });

  it('wraps the parser the client makes when it reconnects, and stops when told', () => {
    const { nc, protocol, delivered } = connection();
    const direct: number[] = [];
    const stop = readAcksFromConnection(nc, INBOX, subscription(SID), (seq) => direct.push(seq))!;
    protocol.parser.parse(Buffer.from(ack(1)));
    // A reconnect: the client sets a new parser (resetOutbound).
    const dispatcher = (protocol.parser as unknown as { dispatcher: unknown }).dispatcher;
    protocol.parser = new Parser(dispatcher as never);
    protocol.parser.parse(Buffer.from(ack(2)));
    expect(direct).toEqual([1, 2]);
    expect(delivered).toEqual([]);
    stop();
    protocol.parser.parse(Buffer.from(ack(3)));
    expect(direct).toEqual([1, 2]);
    expect(delivered).toEqual([`ack 3 {"stream":"S", "seq":3}`]);
  });

  it('hands a held piece of an ack to the client once no reader is left, and drops it with a replaced parser', () => {
    const frame = Buffer.from(ack(4));
    const { nc, protocol, delivered } = connection();
    const direct: number[] = [];
    const stop = readAcksFromConnection(nc, INBOX, subscription(SID), (seq) => direct.push(seq))!;
    protocol.parser.parse(frame.subarray(0, 20));
    stop();
    protocol.parser.parse(frame.subarray(20));
    expect(direct).toEqual([]);
    expect(delivered).toEqual([`ack 4 {"stream":"S", "seq":4}`]);

    const again = connection();
    const seen: number[] = [];
    readAcksFromConnection(again.nc, INBOX, subscription(SID), (seq) => seen.push(seq));
    again.protocol.parser.parse(frame.subarray(0, 20));
    // The connection dropped: the client's new parser starts on the new connection's bytes.
    const dispatcher = (again.protocol.parser as unknown as { dispatcher: unknown }).dispatcher;
    again.protocol.parser = new Parser(dispatcher as never);
    again.protocol.parser.parse(Buffer.from(ack(5)));
    expect(seen).toEqual([5]);
    expect(again.delivered).toEqual([]);
  });

  it('keeps two readers of one connection apart (two inboxes)', () => {
    const { nc, protocol, delivered } = connection();
    const first: number[] = [];
    const second: number[] = [];
    readAcksFromConnection(nc, INBOX, subscription(SID), (seq) => first.push(seq));
    readAcksFromConnection(nc, '_INBOX.OTHER', subscription(9), (seq) => second.push(seq));
    const body = '{"stream":"S","seq":1}';
    protocol.parser.parse(Buffer.from(`${ack(5)}MSG _INBOX.OTHER.6 9 ${body.length}\r\n${body}\r\n${ack(7)}`));
    expect(first).toEqual([5, 7]);
    expect(second).toEqual([6]);
    // The right inbox with another subscription's sid is the client's to deliver.
    protocol.parser.parse(Buffer.from(`MSG _INBOX.OTHER.8 7 ${body.length}\r\n${body}\r\n`));
    expect(second).toEqual([6]);
    expect(delivered).toEqual([`msg _INBOX.OTHER.8 7  hdr=-1 ${body}`]);
  });

  it('knows the start state from a new parser, not from the connection\'s, which may be inside a frame', () => {
    const { nc, protocol, delivered } = connection();
    // The connection's parser holds half of another subscription's message when the reader is installed.
    const inner = `MSG ${INBOX}.999 ${SID}  2\r\n{}\r\n`;
    const frame = Buffer.from(`MSG other.subject 3  ${inner.length}\r\n${inner}\r\n`);
    const head = `MSG other.subject 3  ${inner.length}\r\n`.length;
    protocol.parser.parse(frame.subarray(0, head));
    const direct: number[] = [];
    readAcksFromConnection(nc, INBOX, subscription(SID), (seq) => direct.push(seq));
    protocol.parser.parse(frame.subarray(head));
    protocol.parser.parse(Buffer.from(ack(1)));
    expect(delivered).toEqual([`msg other.subject 3  hdr=-1 ${inner}`]);
    expect(direct).toEqual([1]);
  });

  it('installs nothing on a connection without the parser it expects', () => {
    const onAck = (): void => undefined;
    expect(readAcksFromConnection({} as NatsConnection, INBOX, subscription(SID), onAck)).toBeUndefined();
    expect(readAcksFromConnection({ protocol: { parser: {} } } as unknown as NatsConnection, INBOX, subscription(SID), onAck)).toBeUndefined();
    expect(readAcksFromConnection(connection().nc, INBOX, {} as Subscription, onAck)).toBeUndefined();
    const frozen = { protocol: Object.freeze({ parser: new Parser({ push: () => undefined }) }) } as unknown as NatsConnection;
    expect(readAcksFromConnection(frozen, INBOX, subscription(SID), onAck)).toBeUndefined();
  });
});
