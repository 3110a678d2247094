// A paused table of a polled source is skipped by every pass (no reads, state untouched); on
// resume the next pass finds everything that changed meanwhile, as the latest rows.
import { describe, expect, inject, it } from 'vitest';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { pgSession, under, waitForStream } from '../../support/pg-helpers.ts';
import { startPollBridge } from '../../support/poll-harness.ts';
import { liveRows, streamProblems } from '../../support/stream.ts';

const A = `
table: public.a
entity: a
fields:
  id: { from: id, type: integer }
  v:  { from: v, type: integer }
`;
const B = A.replaceAll('public.a', 'public.b').replace('entity: a', 'entity: b');

describe('pause a polled table', () => {
  it('skips the paused table while the other is polled, and finds its changes on resume', async () => {
    await using db = await freshDatabase('pollpause');
    await using session = await pgSession(db.url);
    await session.query('CREATE TABLE a (id integer PRIMARY KEY, v integer); CREATE TABLE b (id integer PRIMARY KEY, v integer)');
    await session.query('INSERT INTO a SELECT g, 0 FROM generate_series(1, 20) g; INSERT INTO b SELECT g, 0 FROM generate_series(1, 20) g');
    const paused = new Set<string>();
    await using bridge = await startPollBridge({
      natsUrl: inject('natsUrl'),
      id: uniqueName('pollpause'),
      source: { name: 'legacy', kind: 'postgres', url: db.url },
      mappings: { 'A.yaml': A, 'B.yaml': B },
      poll: { intervalMs: 100, chunkSize: 50 },
      engine: { isPaused: (table) => paused.has(table) },
    });
    const a = `${bridge.prefix}.legacy.a.`;
    const b = `${bridge.prefix}.legacy.b.`;
    await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, a).length >= 20 && under(all, b).length >= 20, 'the first read of both');

    paused.add('public.a');
    await bridge.waitForPasses(bridge.passes() + 1);
    await session.query('UPDATE a SET v = 1 WHERE id <= 5; UPDATE b SET v = 1 WHERE id <= 5');
    await session.query('UPDATE a SET v = 2 WHERE id <= 3; DELETE FROM a WHERE id = 20');
    await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, b).length >= 25, 'the changes of b');
    await bridge.waitForPasses(bridge.passes() + 3);
    let messages = await waitForStream(inject('natsUrl'), bridge.stream, () => true, 'the stream');
    expect(under(messages, a)).toHaveLength(20);

    paused.delete('public.a');
    messages = await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, a).length >= 26, 'the changes of a after resume');
    const changes = under(messages, a).slice(20);
    // Coalesced into the latest rows: one envelope per changed key.
    expect(changes.map((m) => `${m.body.op} ${m.body.key.id}`).sort()).toEqual(['d 20', 'u 1', 'u 2', 'u 3', 'u 4', 'u 5']);
    expect(liveRows(messages, a).get(`${a}1`)).toEqual({ id: 1, v: 2 });
    expect(liveRows(messages, a).get(`${a}4`)).toEqual({ id: 4, v: 1 });
    expect(streamProblems(messages, a)).toEqual([]);
  });
});
