// The debounce window: several updates to one key spread over several passes inside the
// window become one envelope with the latest row; a key inserted and deleted inside the
// window, or changed and changed back, sends nothing; a change after the window is sent again.
import { describe, expect, inject, it } from 'vitest';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { pgSession, under, waitForStream } from '../../support/pg-helpers.ts';
import { startPollBridge } from '../../support/poll-harness.ts';
import { readStream, streamProblems } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

const MAPPING = `
table: public.gauges
entity: gauge
fields:
  id:    { from: id, type: integer }
  level: { from: level, type: integer }
`;

describe('poll: debounce', () => {
  it('coalesces changes to one key inside the window into one envelope with the latest row', async () => {
    await using db = await freshDatabase('polldeb');
    await using session = await pgSession(db.url);
    await session.query(`CREATE TABLE gauges (id integer PRIMARY KEY, level integer)`);
    await session.query(`INSERT INTO gauges SELECT g, 0 FROM generate_series(1, 20) g`);

    await using bridge = await startPollBridge({
      natsUrl: inject('natsUrl'),
      id: uniqueName('polldeb'),
      source: { name: 'legacy', kind: 'postgres', url: db.url },
      mappings: { 'GAUGES.yaml': MAPPING },
      poll: { intervalMs: 100, debounceMs: 3000, chunkSize: 10 },
    });
    const entity = `${bridge.prefix}.legacy.gauge.`;
    await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, entity).length >= 20, '20 r envelopes');
    await bridge.waitForPasses(bridge.passes() + 1);

    // Five updates of key 3, each seen by its own pass, all inside the 3 s window.
    for (let level = 1; level <= 5; level++) {
      await session.query(`UPDATE gauges SET level = $1 WHERE id = 3`, [level]);
      await bridge.waitForPasses(bridge.passes() + 1);
    }
    // Inside the window too: key 100 comes and goes, key 7 changes and changes back.
    await session.query(`INSERT INTO gauges VALUES (100, 1)`);
    await session.query(`UPDATE gauges SET level = 9 WHERE id = 7`);
    await bridge.waitForPasses(bridge.passes() + 1);
    expect(bridge.source.stats!.held).toBeGreaterThanOrEqual(2);
    await session.query(`DELETE FROM gauges WHERE id = 100`);
    await session.query(`UPDATE gauges SET level = 0 WHERE id = 7`);

    const messages = await waitForStream(
      inject('natsUrl'),
      bridge.stream,
      (all) => under(all, entity).some((m) => m.body.op === 'u'),
      'the coalesced update',
    );
    const updates = under(messages, entity).filter((m) => m.body.op !== 'r');
    expect(updates.map((m) => [m.body.op, m.body.key.id, m.body.after.level])).toEqual([['u', 3, 5]]);

    // Once nothing is held any more, nothing else was sent for 7 or 100.
    await bridge.waitForPasses(bridge.passes() + 1);
    await waitFor(() => bridge.source.stats!.held === 0, { what: 'no held change left', timeoutMs: 10_000 });
    await bridge.waitForPasses(bridge.passes() + 1);
    let all = await readStream(inject('natsUrl'), bridge.stream);
    expect(under(all, entity).filter((m) => m.body.op !== 'r')).toHaveLength(1);

    // A change after the window is a new envelope.
    await session.query(`UPDATE gauges SET level = 6 WHERE id = 3`);
    all = await waitForStream(inject('natsUrl'), bridge.stream, (m) => under(m, entity).filter((x) => x.body.op === 'u').length >= 2, 'the next update');
    expect(under(all, entity).filter((m) => m.body.op === 'u').map((m) => m.body.after.level)).toEqual([5, 6]);
    expect(streamProblems(all, entity)).toEqual([]);
    await bridge.stop();
  });
});
