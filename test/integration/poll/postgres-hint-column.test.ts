// A hint column (`poll: { changedColumn: UPDATED_AT }`): between sweeps the bridge reads only
// rows whose UPDATED_AT reached the watermark, so an honest update is found without a sweep;
// an update that leaves UPDATED_AT alone (the hint lies) and a delete are not seen by the hint
// and are found by the next full checksum sweep.
import { describe, expect, inject, it } from 'vitest';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { pgSession, under, waitForStream } from '../../support/pg-helpers.ts';
import { startPollBridge } from '../../support/poll-harness.ts';
import { readStream, streamProblems } from '../../support/stream.ts';

const MAPPING = `
table: public.assets
entity: asset
fields:
  id:        { from: ID, type: integer }
  condition: { from: COND, type: string }
poll: { changedColumn: UPDATED_AT, sweep: 1h }
`;

describe('poll: hint column', () => {
  it('finds honest updates between sweeps; the sweep catches a lying hint and deletes', async () => {
    await using db = await freshDatabase('pollhint');
    await using session = await pgSession(db.url);
    await session.query(`CREATE TABLE assets ("ID" integer PRIMARY KEY, "COND" text, "UPDATED_AT" timestamp NOT NULL)`);
    await session.query(`INSERT INTO assets SELECT g, 'good', timestamp '2024-01-01' FROM generate_series(1, 300) g`);

    await using bridge = await startPollBridge({
      natsUrl: inject('natsUrl'),
      id: uniqueName('pollhint'),
      source: { name: 'legacy', kind: 'postgres', url: db.url },
      mappings: { 'ASSETS.yaml': MAPPING },
      poll: { intervalMs: 100, chunkSize: 50 },
    });
    const entity = `${bridge.prefix}.legacy.asset.`;
    await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, entity).length >= 300, '300 r envelopes');
    await bridge.waitForPasses(bridge.passes() + 2);
    const sweeps = bridge.source.stats!.sweeps;

    // Honest: UPDATED_AT moves. Found by the hint query alone, reading only the hinted rows.
    await session.query(`UPDATE assets SET "COND" = 'fair', "UPDATED_AT" = timestamp '2024-05-01 10:00' WHERE "ID" IN (17, 250)`);
    let messages = await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, entity).length >= 302, 'the honest updates');
    expect(under(messages, entity).slice(300).map((m) => `${m.body.op} ${m.body.key.id} ${m.body.after.condition}`).sort()).toEqual([
      'u 17 fair',
      'u 250 fair',
    ]);
    expect(bridge.source.stats!.sweeps).toBe(sweeps);
    expect(bridge.source.stats!.hintScans).toBeGreaterThan(0);
    await bridge.waitForPasses(bridge.passes() + 2);
    // An idle hint pass re-reads the rows at the watermark, nothing else, and no checksum runs.
    expect(bridge.source.stats!.last).toMatchObject({ rowsRead: 2, checksumQueries: 0, changes: 0 });

    // Lying: COND changes, UPDATED_AT does not; and a delete. Several hint passes miss both.
    await session.query(`UPDATE assets SET "COND" = 'poor' WHERE "ID" = 99`);
    await session.query(`DELETE FROM assets WHERE "ID" = 150`);
    await bridge.waitForPasses(bridge.passes() + 3);
    messages = await readStream(inject('natsUrl'), bridge.stream);
    expect(under(messages, entity)).toHaveLength(302);
    expect(bridge.source.stats!.sweeps).toBe(sweeps);

    // The sweep (due every `sweep`, asked for here) finds them by checksum.
    bridge.source.requestSweep();
    messages = await waitForStream(inject('natsUrl'), bridge.stream, (all) => under(all, entity).length >= 304, 'the sweep to find the lie and the delete');
    expect(under(messages, entity).slice(302).map((m) => `${m.body.op} ${m.body.key.id}`).sort()).toEqual(['d 150', 'u 99']);
    expect(bridge.source.stats!.sweeps).toBe(sweeps + 1);
    expect(under(messages, entity).find((m) => m.body.op === 'u' && m.body.key.id === 99)!.body.after.condition).toBe('poor');
    expect(streamProblems(messages, entity)).toEqual([]);
    await bridge.stop();
  });
});
