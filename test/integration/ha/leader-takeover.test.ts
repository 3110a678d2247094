// Two `hms-sync run` processes with one config: one holds the source's capture lease, the
// other stands by. The leader is SIGKILLed under load; the standby must take over within 15 s
// and the stream must still hold every change exactly once.
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles, type BridgeProcess } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { httpBaseUrl, requestJson } from '../../support/http.ts';
import { runPacedCounterLoad } from '../../support/paced-load.ts';
import { COUNTER_MAPPING, createCounters, expectStreamEqualsTable, streamCount, tableVersions } from '../../support/pg-load.ts';
import { readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

const LEASE_WON = /"event":"lease_won"/;
const STANDBY = /"event":"standby"/;

describe('leader-takeover', () => {
  // Same machine: the standby sees the holder's pid is gone and takes over at once. Elsewhere
  // (HMS_SYNC_LEASE_PID_CHECK=off makes this machine look like another one) it waits out the ttl.
  it.each([
    { where: 'on the same machine', env: {} as Record<string, string> },
    { where: 'on another machine (lease ttl)', env: { HMS_SYNC_LEASE_PID_CHECK: 'off' } as Record<string, string> },
  ])('a standby $where takes over within 15 s of the leader being SIGKILLed under load, losing nothing', async ({ where, env }) => {
    await using db = await freshDatabase('ha');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    const rows = 2_000;
    await createCounters(db.url, rows);
    const setup = writeBridgeFiles(ws, {
      natsUrl,
      id: uniqueName('ha'),
      source: { name: 'src', url: db.url },
      mappings: { 'counters.yaml': COUNTER_MAPPING },
      top: 'http: { host: 127.0.0.1, port: 0 }',
    });
    const args = ['run', '-c', setup.configPath];
    const first: BridgeProcess = startBridgeProcess(args, env);
    let second: BridgeProcess | undefined;
    let third: BridgeProcess | undefined;
    try {
      await first.waitForOutput(LEASE_WON, 'the first process to win the lease');
      await first.waitForOutput(/streaming changes/, 'the first process to stream');
      second = startBridgeProcess(args, env);
      await second.waitForOutput(STANDBY, 'the second process to stand by');
      expect(second.output()).not.toMatch(LEASE_WON);
      const secondHttp = await httpBaseUrl(second);
      const standbyView = await requestJson<Array<{ name: string; state: string }>>(`${secondHttp}/api/sources`);
      expect(standbyView.body.find((s) => s.name === 'src')?.state).toBe('standby');

      // 20 000 row updates in 2 000 small transactions over ~10 s.
      const load = runPacedCounterLoad(db.url, { rows, transactions: 2_000, perTx: 10, rounds: 20, pauseMs: 400 });
      const entity = `${setup.prefix}.src.counter.`;
      await waitFor(async () => (await streamCount(natsUrl, setup.stream)) >= rows + 3_000, {
        what: 'the leader to publish part of the load',
        timeoutMs: 60_000,
      });
      await first.kill();
      const killedAt = Date.now();
      await second.waitForOutput(LEASE_WON, 'the standby to win the lease', 20_000);
      const takeoverMs = Date.now() - killedAt;
      console.log(`[leader-takeover] ${where}: standby won the lease ${takeoverMs} ms after SIGKILL of the leader`);
      expect(takeoverMs).toBeLessThan(15_000);
      await waitFor(
        async () => (await requestJson<Array<{ name: string; state: string }>>(`${secondHttp}/api/sources`)).body.find((s) => s.name === 'src')?.state === 'online',
        { what: 'the new leader to report the source online', timeoutMs: 30_000 },
      );
      const committed = await load;
      expect(committed).toBe(2_000);
      await expectStreamEqualsTable(natsUrl, setup.stream, entity, db.url);
      const all = await readStream(natsUrl, setup.stream, `${entity}>`);
      expect(new Set(all.map((m) => m.msgId)).size).toBe(all.length);
      // One envelope per row version (the snapshot's `r` is version 1), no more.
      const versions = await tableVersions(db.url);
      expect(all.length).toBe([...versions.values()].reduce((sum, v) => sum + v, 0));

      // SIGTERM releases the lease: a standby takes over at its next read, not after the ttl.
      third = startBridgeProcess(args, env);
      await third.waitForOutput(STANDBY, 'a third process to stand by');
      expect(await second.stop()).toBe(0);
      expect(second.output()).toMatch(/"event":"lease_released"/);
      const stoppedAt = Date.now();
      await third.waitForOutput(LEASE_WON, 'the third process to win the released lease', 10_000);
      expect(Date.now() - stoppedAt).toBeLessThan(3_000);
      expect(await third.stop()).toBe(0);
    } finally {
      await first.kill();
      await second?.kill();
      await third?.kill();
    }
  }, 240_000);
});
