// Poll state lives in NATS: a bridge stopped and started again (or started elsewhere with the
// same config) sends only what changed meanwhile, deletes included, and reads no rows when
// nothing did; a bridge whose state is gone sends every row again as `r`, never nothing.
import { Kvm } from '@nats-io/kv';
import { describe, expect, inject, it } from 'vitest';
import { connectNats } from '../../../src/nats/connection.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { pgSession, under, waitForStream } from '../../support/pg-helpers.ts';
import { startPollBridge, type PollBridgeOptions } from '../../support/poll-harness.ts';
import { liveRows, readStream, streamProblems } from '../../support/stream.ts';

const MAPPING = `
table: public.permits
entity: permit
fields:
  id:     { from: id, type: integer }
  status: { from: status, type: string }
`;

describe('poll: restart and lost state', () => {
  it('resumes from the state in NATS without sending rows again, and a lost state sends every row as r', async () => {
    await using db = await freshDatabase('pollrestart');
    await using session = await pgSession(db.url);
    await session.query(`CREATE TABLE permits (id integer PRIMARY KEY, status text)`);
    await session.query(`INSERT INTO permits SELECT g, 'open' FROM generate_series(1, 120) g`);
    const options: PollBridgeOptions = {
      natsUrl: inject('natsUrl'),
      id: uniqueName('pollrestart'),
      source: { name: 'legacy', kind: 'postgres', url: db.url },
      mappings: { 'PERMITS.yaml': MAPPING },
      poll: { intervalMs: 100, chunkSize: 25 },
    };

    await using first = await startPollBridge(options);
    const entity = `${first.prefix}.legacy.permit.`;
    await waitForStream(inject('natsUrl'), first.stream, (all) => under(all, entity).length >= 120, '120 r envelopes');
    await session.query(`UPDATE permits SET status = 'closed' WHERE id = 10`);
    await waitForStream(inject('natsUrl'), first.stream, (all) => under(all, entity).length >= 121, 'the first update');
    await first.stop();

    // Changes while no bridge runs.
    await session.query(`UPDATE permits SET status = 'revoked' WHERE id IN (20, 110)`);
    await session.query(`DELETE FROM permits WHERE id = 30`);
    await session.query(`INSERT INTO permits VALUES (500, 'open')`);

    await using second = await startPollBridge(options);
    let messages = await waitForStream(inject('natsUrl'), second.stream, (all) => under(all, entity).length >= 125, 'the changes made while stopped');
    await second.waitForPasses(2);
    const sinceRestart = under(messages, entity).slice(121);
    expect(sinceRestart.map((m) => `${m.body.op} ${m.body.key.id}`).sort()).toEqual(['c 500', 'd 30', 'u 110', 'u 20']);
    await second.stop();

    // Nothing changed: the first pass of a third bridge checks the sums and reads no rows.
    await using third = await startPollBridge(options);
    await third.waitForPasses(2);
    expect(third.source.stats).toMatchObject({ rowsRead: 0, changes: 0 });
    await third.stop();
    messages = await readStream(inject('natsUrl'), first.stream);
    expect(under(messages, entity)).toHaveLength(125);

    // The poll state is lost (bucket gone): every row again, as r.
    const nc = await connectNats({ servers: [inject('natsUrl')] });
    await (await new Kvm(nc).open(first.bucket)).destroy();
    await nc.close();
    await using fourth = await startPollBridge(options);
    messages = await waitForStream(inject('natsUrl'), fourth.stream, (all) => under(all, entity).length >= 125 + 120, '120 r envelopes again');
    const resent = under(messages, entity).slice(125);
    expect(resent.every((m) => m.body.op === 'r')).toBe(true);
    expect(resent).toHaveLength(120);
    // They sort after everything sent before, so a consumer keeping the newest position takes them.
    const before = under(messages, entity).slice(0, 125).map((m) => m.body.source.position as string);
    expect(resent.every((m) => before.every((p) => m.body.source.position > p))).toBe(true);
    await fourth.stop();

    expect(streamProblems(messages, entity)).toEqual([]);
    const table = await session.query<{ id: number; status: string }>(`SELECT id, status FROM permits`);
    expect([...liveRows(messages, entity).values()].map((a) => `${a.id} ${a.status}`).sort()).toEqual(table.map((r) => `${r.id} ${r.status}`).sort());
  });
});
