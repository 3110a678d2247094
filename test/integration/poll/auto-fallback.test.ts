import { describe, expect, inject, it } from 'vitest';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { COUNTER_MAPPING, createCounters } from '../../support/pg-load.ts';
import { readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

describe('capture: auto', () => {
  it('polls when the account may only SELECT, says why, and doctor names what a DBA can run', async () => {
    await using db = await freshDatabase('auto');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 20);
    const role = await db.createRole('selectonly');
    await db.query(`GRANT SELECT ON counters TO "${role.name}"`);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('auto'),
      source: { name: 'src', url: role.url, extra: 'capture: auto\npoll: { interval: 250ms, debounce: 0ms }' },
      mappings: { 'counters.yaml': COUNTER_MAPPING },
    });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/capture method poll \(log capture is not possible: [^)]*REPLICATION/, 'the fallback to polling, with the reason');
    const entity = `${setup.prefix}.src.counter.`;
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
