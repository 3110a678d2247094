import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { COUNTER_MAPPING, createCounters } from '../../support/pg-load.ts';
import { readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

describe('idle source keepalives', () => {
  it('confirms the slot past WAL written by other databases, so an idle source does not pin WAL', async () => {
    await using db = await freshDatabase('idle');
    await using other = await freshDatabase('busy');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 10);
    const setup = writeBridgeFiles(ws, { natsUrl, id: uniqueName('idle'), source: { name: 'src', url: db.url }, mappings: { 'counters.yaml': COUNTER_MAPPING } });
    await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    const before = (await readStream(natsUrl, setup.stream)).length;

    // Another database of the same server writes WAL; nothing in the mapped table changes.
    await other.query(`CREATE TABLE noise AS SELECT g, md5(g::text) FROM generate_series(1, 50000) g`);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const walNow = (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
      await waitFor(
        async () => {
          const { rows } = await client.query<{ past: boolean }>(
            'SELECT confirmed_flush_lsn >= $2::pg_lsn AS past FROM pg_replication_slots WHERE slot_name = $1',
            [setup.slot, walNow],
          );
          return rows[0]?.past === true;
        },
        { what: `the slot to be confirmed past ${walNow}`, timeoutMs: 45_000, intervalMs: 250 },
      );
      // And nothing was published for it.
      expect((await readStream(natsUrl, setup.stream)).length).toBe(before);
      // A change after the idle advance still arrives: the advance skipped nothing of ours.
      await client.query('UPDATE counters SET version = version + 1 WHERE id = 3');
      await waitFor(
        async () => (await readStream(natsUrl, setup.stream)).some((m) => m.body.op === 'u' && m.body.key?.id === 3 && m.body.after.version === 2),
        { what: 'the update after the idle period', timeoutMs: 20_000 },
      );
    } finally {
      await client.end();
    }
  }, 90_000);
});
