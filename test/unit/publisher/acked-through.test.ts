// The publisher's acknowledged-through sequence (what lets the pipeline hand a checkpoint back
// to the source) under acks that arrive in any order: it is always the highest sequence with
// every sequence at or below it acknowledged, and waitAcked resolves exactly then. The NATS
// connection here is a stand-in that records the frames and hands acks back in a chosen
// order; the publisher against a real nats-server is covered by the integration tests.
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { JetStreamPublisher } from '../../../src/publisher/jetstream-publisher.ts';
import { hpubFrames } from '../../support/hpub-frames.ts';
import { waitFor } from '../../support/wait.ts';

/** `raw`: the ack carries its subject's bytes as @nats-io/nats-core 3.x's MsgImpl does (`_msg.subject`). */
function standIn(raw = false, failHandOvers = 0) {
  const replies: string[] = [];
  let failures = failHandOvers;
  let deliver: ((err: Error | null, msg: Msg) => void) | undefined;
  const nc = {
    protocol: {
      noMorePublishing: false,
      info: { max_payload: 1024 * 1024 },
      // The publisher hands over neighbouring frames together, at the end of a tick.
      sendCommand(frames: Uint8Array) {
        if (failures > 0 && failures--) throw new Error('the client refused the bytes');
        for (const frame of hpubFrames(frames)) replies.push(frame.toString('latin1').split(' ')[2]!);
      },
      flushPending() {},
    },
    isClosed: () => false,
    subscribe: (_subject: string, options: { callback: (err: Error | null, msg: Msg) => void }) => {
      deliver = options.callback;
      return { unsubscribe() {} };
    },
    status: () => ({ async *[Symbol.asyncIterator]() {} }),
  } as unknown as NatsConnection;
  const ack = (seq: number, body = `{"stream":"S","seq":${seq}}`): void => {
    const data = Buffer.from(body);
    const subject = replies[seq - 1];
    if (subject === undefined) throw new Error(`no frame of sequence ${seq} handed to the client yet`);
    deliver!(null, (raw ? { _msg: { subject: Buffer.from(subject) }, data, headers: undefined } : { subject, data, headers: undefined }) as unknown as Msg);
  };
  return { nc, ack };
}

/** A fixed pseudo-random permutation of 1..n. */
function shuffled(n: number, seed: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i + 1);
  let state = seed;
  for (let i = n - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('acknowledged-through sequence', () => {
  it('is the highest sequence with all below it acknowledged, whatever order acks arrive in', async () => {
    for (const [seed, raw] of [[1, false], [7, true], [42, false], [5, true]] as const) {
      const { nc, ack } = standIn(raw);
      const publisher = new JetStreamPublisher(nc, { maxInflight: 1000, ackTimeoutMs: 60_000, maxSends: 5 });
      const n = 300;
      for (let i = 1; i <= n; i++) {
        expect(publisher.publish({ subject: `p.s.e.k${i}`, msgId: `id${i}`, op: 'c', payload: Buffer.from('{}') })).toBeUndefined();
      }
      await Promise.resolve(); // the frames reach the client at the end of the tick
      expect(publisher.ackedThrough).toBe(0);
      const resolved = new Set<number>();
      const waits = [50, 150, 300].map((seq) => publisher.waitAcked(seq).then(() => resolved.add(seq)));
      const acked = new Set<number>();
      for (const seq of shuffled(n, seed)) {
        ack(seq);
        acked.add(seq);
        let expected = 0;
        while (acked.has(expected + 1)) expected++;
        expect(publisher.ackedThrough).toBe(expected);
        await Promise.resolve();
        await Promise.resolve();
        for (const seq of [50, 150, 300]) expect(resolved.has(seq)).toBe(expected >= seq);
      }
      await Promise.all(waits);
      // A sequence published after everything was acknowledged is in flight again.
      publisher.publish({ subject: 'p.s.e.k1', msgId: 'again', op: 'u', payload: Buffer.from('{}') });
      await Promise.resolve();
      expect(publisher.ackedThrough).toBe(n);
      ack(n + 1);
      expect(publisher.ackedThrough).toBe(n + 1);
      await publisher.close();
    }
  });

  it('settles a duplicate PubAck, and fails on a PubAck that carries an error, wherever its "error" field stands', async () => {
    for (const body of [
      '{"stream":"S","seq":0,"error":{"code":400,"err_code":10077,"description":"maximum messages exceeded"}}',
      '{"error":{"code":400,"err_code":10077,"description":"maximum messages exceeded"},"stream":"S","seq":0}',
    ]) {
      const { nc, ack } = standIn();
      const publisher = new JetStreamPublisher(nc, { maxInflight: 10, ackTimeoutMs: 60_000, maxSends: 5 });
      for (let i = 1; i <= 3; i++) publisher.publish({ subject: `p.s.e.k${i}`, msgId: `id${i}`, op: 'c', payload: Buffer.from('{}') });
      await Promise.resolve();
      ack(1, '{"stream":"S","seq":1,"duplicate":true}');
      expect(publisher.ackedThrough).toBe(1);
      const waiting = publisher.waitAcked(3);
      ack(2, body);
      await expect(waiting).rejects.toThrow(/JetStream rejected p\.s\.e\.k2: maximum messages exceeded \(code 400\)/);
      expect(publisher.ackedThrough).toBe(1);
      await publisher.close();
    }
  });

  it('re-sends frames the client refused when they were handed over at the end of the tick, without an uncaught error', async () => {
    const { nc, ack } = standIn(false, 1);
    const publisher = new JetStreamPublisher(nc, { maxInflight: 10, ackTimeoutMs: 100, maxSends: 5 });
    for (let i = 1; i <= 3; i++) publisher.publish({ subject: `p.s.e.k${i}`, msgId: `id${i}`, op: 'c', payload: Buffer.from('{}') });
    await Promise.resolve();
    expect(() => ack(1)).toThrow(/no frame of sequence 1/); // the hand-over threw, in a microtask
    await waitFor(
      () => {
        try {
          for (const seq of [1, 2, 3]) ack(seq);
          return true;
        } catch {
          return false;
        }
      },
      { what: 'the three frames sent again at their ack timeout', timeoutMs: 5_000 },
    );
    expect(publisher.ackedThrough).toBe(3);
    await publisher.close();
  });

  it('holds back a second message of its subject until its ack, and no other', async () => {
    const { nc, ack } = standIn();
    const publisher = new JetStreamPublisher(nc, { maxInflight: 10, ackTimeoutMs: 60_000, maxSends: 5 });
    const msg = (subject: string, id: string) => ({ subject, msgId: id, op: 'c', payload: Buffer.from('{}') });
    expect(publisher.publish(msg('p.s.e.k1', 'a'))).toBeUndefined();
    expect(publisher.publish(msg('p.s.e.k10', 'b'))).toBeUndefined();
    expect(publisher.publish(msg('p.s.e.k', 'c'))).toBeUndefined();
    const second = publisher.publish(msg('p.s.e.k1', 'd'));
    expect(second).toBeInstanceOf(Promise);
    expect(publisher.lastSequence).toBe(3);
    await Promise.resolve();
    ack(2);
    ack(3);
    await Promise.resolve();
    expect(publisher.lastSequence).toBe(3);
    ack(1);
    await second;
    expect(publisher.lastSequence).toBe(4);
    ack(4);
    expect(publisher.ackedThrough).toBe(4);
    await publisher.close();
  });
});

describe('in-flight entries used again', () => {
  // The publisher keeps no object a message: an acknowledged message's entry goes back to a
  // pool and carries the next one. Here a window of 4 recycles each entry ~15 times, messages
  // of one subject wait for each other, and reconnects re-send what is in flight: every frame
  // sent for a sequence must be the bytes first sent for it, with its own subject and id.
  it('re-sends each message as it was first sent, after its entry has carried others', async () => {
    const frames = new Map<number, string[]>();
    let deliver: ((err: Error | null, msg: Msg) => void) | undefined;
    const statuses: Array<{ type: string }> = [];
    let wakeStatus: (() => void) | undefined;
    const nc = {
      protocol: {
        noMorePublishing: false,
        info: { max_payload: 1024 * 1024 },
        sendCommand(bytes: Uint8Array) {
          for (const frame of hpubFrames(bytes)) {
            const text = frame.toString('latin1');
            const seq = Number(text.split(' ')[2]!.split('.').pop());
            frames.set(seq, [...(frames.get(seq) ?? []), text]);
          }
        },
        flushPending() {},
      },
      isClosed: () => false,
      subscribe: (_subject: string, options: { callback: (err: Error | null, msg: Msg) => void }) => {
        deliver = options.callback;
        return { unsubscribe() {} };
      },
      status: () => ({
        async *[Symbol.asyncIterator]() {
          for (;;) {
            while (statuses.length > 0) yield statuses.shift()!;
            await new Promise<void>((resolve) => (wakeStatus = resolve));
          }
        },
      }),
    } as unknown as NatsConnection;
    const reply = (seq: number): string => frames.get(seq)![0]!.split(' ')[2]!;
    const ack = (seq: number): void =>
      deliver!(null, { subject: reply(seq), data: Buffer.from(`{"stream":"S","seq":${seq}}`), headers: undefined } as unknown as Msg);
    const reconnect = async (): Promise<void> => {
      statuses.push({ type: 'disconnect' }, { type: 'reconnect' });
      wakeStatus?.();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    };

    const publisher = new JetStreamPublisher(nc, { maxInflight: 4, ackTimeoutMs: 60_000, maxSends: 5 });
    const published = new Map<number, { subject: string; msgId: string; payload: string }>();
    const subjects = ['p.s.e.a', 'p.s.e.bb', 'p.s.e.ccc', 'p.s.e.a', 'p.s.e.dddd', 'p.s.e.bb'];
    for (let i = 1; i <= 60; i++) {
      const subject = subjects[i % subjects.length]!;
      const message = { subject, msgId: `id-${i}`, op: 'c', payload: Buffer.from(`{"n":${i},"pad":"${'x'.repeat(i % 7)}"}`) };
      const sentAs = { subject, msgId: message.msgId, payload: message.payload.toString() };
      const waited = publisher.publish(message);
      // The sequence a publish gets is the next one, at once or once it may go out.
      if (!waited) {
        published.set(publisher.lastSequence, sentAs);
        continue;
      }
      // Ack what is in flight (lowest two) until the waiting publish goes, and note its sequence.
      for (;;) {
        const before = publisher.lastSequence;
        const low = publisher.ackedThrough + 1;
        if (i % 3 === 0) await reconnect();
        for (const seq of [low + 1, low]) if (seq <= before && frames.has(seq)) ack(seq);
        for (let k = 0; k < 10; k++) await Promise.resolve();
        if (publisher.lastSequence > before) break;
      }
      published.set(publisher.lastSequence, sentAs);
      await waited;
    }
    for (let seq = publisher.ackedThrough + 1; seq <= publisher.lastSequence; seq++) ack(seq);
    expect(publisher.ackedThrough).toBe(60);
    expect(published.size).toBe(60);
    let resent = 0;
    for (const [seq, message] of published) {
      const sent = frames.get(seq)!;
      resent += sent.length - 1;
      for (const frame of sent) expect(frame).toBe(sent[0]);
      const [, subject, replyTo] = sent[0]!.split(' ');
      expect([seq, subject, replyTo!.endsWith(`.${seq}`)]).toEqual([seq, message.subject, true]);
      expect(sent[0]).toContain(`Nats-Msg-Id: ${message.msgId}\r\n`);
      expect(sent[0]!.endsWith(`\r\n\r\n${message.payload}\r\n`)).toBe(true);
    }
    expect(resent).toBeGreaterThan(20);
    await publisher.close();
  });
});
