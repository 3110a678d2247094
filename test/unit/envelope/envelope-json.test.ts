// The envelope writer gives exactly the bytes of Buffer.from(JSON.stringify(envelope)): on an
// envelope with every field set, on generated envelopes full of awkward strings and numbers,
// and across the payload slab's boundaries.
import { describe, expect, it } from 'vitest';
import { seededRandom as generator } from '../../../src/demo/legacy-rows.ts';
import type { Envelope } from '../../../src/envelope/envelope.ts';
import { EnvelopeJson } from '../../../src/envelope/envelope-json.ts';
import { ByteSlab } from '../../../src/util/byte-slab.ts';

const stringified = (envelope: unknown): Buffer => Buffer.from(JSON.stringify(envelope), 'utf8');

function envelope(overrides: Partial<Envelope> = {}): Envelope {
  return {
    id: '0123456789abcdef0123456789abcdef',
    op: 'u',
    entity: 'inspection',
    key: { id: 42 },
    before: { id: 42, note: 'old' },
    after: { id: 42, note: 'new', amount: '12.50', ok: true, gone: null },
    source: {
      name: 'legacy',
      kind: 'postgres',
      table: 'public.inspections',
      capture: 'log',
      position: '00000000016B3A28-00000001',
      commitTs: '2026-11-22T07:00:00.000Z',
      refetched: ['note'],
    },
    mapping: 'sha256:abc',
    ts: '2026-11-22T07:00:00.001Z',
    ...overrides,
  };
}

const PIECES = ['a', 'Z', '0', ' ', '~', '"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u001f', '\u007f', 'ü', 'é', '漢', '😀', '\ud800', '\udc00', '\ufeff', '\u2028', '\u2029', '<', '}'];
const NUMBERS = [0, -0, 1, 7, 42, 999999999, 1e9, 123456789012, -1, -42, 0.5, 0.1, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, NaN, Infinity, -Infinity];

function text(random: () => number, max = 12): string {
  let out = '';
  const length = Math.floor(random() * max);
  for (let i = 0; i < length; i++) out += PIECES[Math.floor(random() * PIECES.length)]!;
  return out;
}

function value(random: () => number, depth: number): unknown {
  const pick = Math.floor(random() * (depth > 2 ? 6 : 9));
  switch (pick) {
    case 0:
    case 1:
      return text(random);
    case 2:
      return NUMBERS[Math.floor(random() * NUMBERS.length)];
    case 3:
      return random() < 0.5;
    case 4:
      return null;
    case 5:
      return undefined;
    case 6:
    case 7: {
      const object: Record<string, unknown> = {};
      const members = Math.floor(random() * 5);
      // Integer-like keys come first in JSON.stringify's order as in Object.keys'.
      for (let i = 0; i < members; i++) object[random() < 0.2 ? String(Math.floor(random() * 10)) : text(random, 6)] = value(random, depth + 1);
      return object;
    }
    default:
      return Array.from({ length: Math.floor(random() * 4) }, () => value(random, depth + 1));
  }
}

describe('EnvelopeJson', () => {
  it('writes an envelope with every field set as JSON.stringify does', () => {
    const writer = new EnvelopeJson();
    const slab = new ByteSlab();
    const full = envelope();
    expect(writer.write(full, slab)).toEqual(stringified(full));
    // Optional and null members: refetched left out, nulls written.
    const { refetched: _left, ...source } = full.source;
    const sparse = envelope({ op: 't', key: null, before: null, after: null, source: { ...source, commitTs: null } });
    expect(writer.write(sparse, slab)).toEqual(stringified(sparse));
  });

  it('gives the same bytes as JSON.stringify for 3,000 generated envelopes (escapes, surrogates, numbers, nesting)', () => {
    const writer = new EnvelopeJson();
    const slab = new ByteSlab(16 * 1024);
    for (let seed = 1; seed <= 3000; seed++) {
      const random = generator(seed);
      const object = () => value(random, 1) as Envelope['after'];
      const generated = envelope({
        entity: text(random) || 'e',
        key: { [text(random, 4)]: text(random) },
        before: random() < 0.3 ? null : object(),
        after: object(),
        source: { ...envelope().source, table: text(random), position: text(random), ...(random() < 0.5 ? { refetched: [text(random), text(random)] } : { refetched: undefined }) },
      });
      const bytes = writer.write(generated, slab);
      if (!bytes.equals(stringified(generated))) expect({ seed, written: bytes.toString('utf8') }).toEqual({ seed, written: JSON.stringify(generated) });
    }
  });

  it('writes values JSON.stringify treats specially as it does: toJSON, typed arrays, functions, undefined in arrays', () => {
    const writer = new EnvelopeJson();
    const slab = new ByteSlab();
    const odd = envelope({
      after: {
        at: new Date(Date.UTC(2026, 10, 22, 7)) as unknown as string,
        bytes: new Uint8Array([1, 2]) as unknown as string,
        list: [undefined, () => 1, 'x'] as unknown as string[],
        fn: (() => 1) as unknown as string,
        own: { toJSON: 'not a function' },
      },
    });
    expect(writer.write(odd, slab)).toEqual(stringified(odd));
    expect(() => writer.write(envelope({ after: { big: 1n as unknown as string } }), slab)).toThrow(TypeError);
  });

  it('keeps every earlier envelope intact across slab boundaries and envelopes larger than the room it asks for', () => {
    const writer = new EnvelopeJson();
    const slab = new ByteSlab(16 * 1024);
    const written: Array<[Envelope, Buffer]> = [];
    for (let i = 0; i < 400; i++) {
      // Mostly small, some past the 2 KB room, some past the 16 KB scratch, some multibyte.
      const size = i % 37 === 0 ? 40_000 : i % 11 === 0 ? 3_000 : i % 5;
      const e = envelope({ after: { id: i, note: (i % 2 ? 'ü' : 'a').repeat(size) } });
      written.push([e, writer.write(e, slab)]);
    }
    for (const [e, bytes] of written) expect(bytes.equals(stringified(e))).toBe(true);
  });
});
