import { describe, expect, it } from 'vitest';
import { runCli, startBridgeProcess, workspace } from '../../support/bridge.ts';
import { freshDatabase, sharedNatsUrl, uniqueName } from '../../support/context.ts';
import { autoCaptureCounters } from '../../support/counters-source.ts';
import { readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

describe('capture: auto', () => {
  it('polls when the account may only SELECT, says why, and doctor names what a DBA can run', async () => {
    await using db = await freshDatabase('auto');
    using ws = workspace();
    const natsUrl = sharedNatsUrl();
    const { role, setup } = await autoCaptureCounters(db, ws, { id: uniqueName('auto'), rows: 20, replication: false, poll: '{ interval: 250ms, debounce: 0ms }' });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/capture method poll \(log capture is not possible: [^)]*REPLICATION/, 'the fallback to polling, with the reason');
    const { entity } = setup;
    await waitFor(async () => (await readStream(natsUrl, setup.stream, `${entity}>`)).length >= 20, { what: 'the 20 rows', timeoutMs: 30_000 });
    await db.query('UPDATE counters SET version = 2 WHERE id = 7');
    const update = await waitFor(
      async () => (await readStream(natsUrl, setup.stream, `${entity}7`)).find((m) => m.body.op === 'u'),
      { what: 'the polled update', timeoutMs: 30_000 },
    );
    expect(update.body).toMatchObject({ op: 'u', key: { id: 7 }, after: { version: 2 }, source: { capture: 'poll' } });
    // Nothing was created on the legacy side.
    expect(await db.query('SELECT 1 FROM pg_publication')).toEqual([]);

    const doctor = await runCli(['doctor', '-c', setup.configPath]);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/source src \(postgres 127\.0\.0\.1:\d+\/[a-z0-9_]+\): capture method poll \(hash-diff\): log capture is not possible/);
    expect(doctor.stdout).toContain(`ALTER ROLE "${role.name}" REPLICATION;`);
    expect(await bridge.stop()).toBe(0);
  }, 90_000);
});
