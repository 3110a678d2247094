// The postgres sink against a real PostgreSQL, fed envelopes out of order and twice: the
// newest position per key always wins, deletes stay deleted, a TRUNCATE clears what is older.
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../../src/envelope/index.ts';
import { PostgresSink, fieldTypesOf } from '../../../src/subscribers/index.ts';
import { freshDatabase } from '../../support/context.ts';

function envelope(op: Envelope['op'], position: string, id: number | null, name?: string, tags?: string[]): Envelope {
  const key = id === null ? null : { id };
  return {
    id: `${op}-${position}`,
    op,
    entity: 'crew',
    key,
    before: null,
    after: op === 'd' || op === 't' || id === null ? null : { id, name: name ?? null, tags: tags ?? null },
    source: { name: 'fhwa', kind: 'postgres', table: 'public.crews', capture: 'log', position, commitTs: null },
    mapping: 'abc',
    ts: new Date().toISOString(),
  };
}

const P = (n: number) => `${n.toString(16).toUpperCase().padStart(16, '0')}-00000001`;

describe('postgres sink', () => {
  it('applies by position, so replays and reordering never regress a row', async () => {
    await using db = await freshDatabase('sink');
    const sink = new PostgresSink({
      url: db.url,
      timeoutMs: 5_000,
      fieldTypes: fieldTypesOf([{ entity: 'crew', fields: [{ name: 'id', type: 'integer' }, { name: 'name', type: 'string' }, { name: 'tags', type: 'json' }] }]),
    });
    try {
      const history = [
        envelope('r', P(1).replace(/1$/, '0'), 1, 'snapshot'),
        envelope('c', P(2), 2, 'two'),
        envelope('u', P(3), 1, 'one-a', ['x']),
        envelope('u', P(4), 1, 'one-b', ['y', 'z']),
        envelope('d', P(5), 2),
        envelope('c', P(6), 3, 'three'),
      ];
      const rows = async () => db.query(`SELECT id, name, tags, hms_position FROM crew ORDER BY id`);
      const expected = [
        { id: '1', name: 'one-b', tags: ['y', 'z'], hms_position: P(4) },
        { id: '3', name: 'three', tags: null, hms_position: P(6) },
      ];
      for (const e of history) await sink.deliver(e, new Uint8Array());
      expect(await rows()).toEqual(expected);
      // Twice, and backwards: nothing moves.
      for (const e of history) await sink.deliver(e, new Uint8Array());
      for (const e of [...history].reverse()) await sink.deliver(e, new Uint8Array());
      expect(await rows()).toEqual(expected);
      // An update older than the delete does not bring key 2 back.
      await sink.deliver(envelope('u', P(4).replace(/1$/, '2'), 2, 'zombie'), new Uint8Array());
      expect(await rows()).toEqual(expected);

      // TRUNCATE: rows older than it go, a replay of older changes stays out, newer ones come in.
      await sink.deliver(envelope('t', P(7), null), new Uint8Array());
      expect(await rows()).toEqual([]);
      for (const e of history) await sink.deliver(e, new Uint8Array());
      expect(await rows()).toEqual([]);
      await sink.deliver(envelope('c', P(8), 4, 'four'), new Uint8Array());
      expect(await rows()).toEqual([{ id: '4', name: 'four', tags: null, hms_position: P(8) }]);
      await sink.check();
    } finally {
      await sink.close();
    }
  });

  it('fails with the server named when the database is unreachable', async () => {
    const sink = new PostgresSink({ url: 'postgres://nobody:pw@127.0.0.1:1/none', timeoutMs: 2_000, fieldTypes: () => undefined });
    await expect(sink.check()).rejects.toThrow(/postgres 127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
    await expect(sink.deliver(envelope('c', P(1), 1, 'x'), new Uint8Array())).rejects.toThrow(/postgres 127\.0\.0\.1:1\/none/);
    await sink.close();
  });
});
