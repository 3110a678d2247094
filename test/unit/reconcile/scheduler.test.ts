import { describe, expect, it } from 'vitest';
import { ReconcileScheduler } from '../../../reconcile/scheduler.ts';
import { parseConfig } from '../../../src/config/index.ts';
import { createLogger } from '../../../src/log.ts';
import { waitFor } from '../../support/wait.ts';

describe('ReconcileScheduler', () => {
  const config = { reconcile: { schedule: '0 2 * * *', target: { kind: 'stream' } } } as unknown as Parameters<typeof parseConfig>[0];
  const log = createLogger('silent');

  it('runs on its schedule and never two runs at once (a tick during a run is skipped and counted)', async () => {
    let running = 0;
    let maxRunning = 0;
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const scheduler = new ReconcileScheduler({
      config: config as never,
      log,
      schedule: '* * * * * *',
      run: async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await blocked;
        running -= 1;
      },
    });
    scheduler.start();
    try {
      await waitFor(() => scheduler.counts.started >= 1 && scheduler.counts.overlapped >= 1, { what: 'a tick during a run', timeoutMs: 10_000, intervalMs: 50 });
      expect(await scheduler.runOnce()).toBeUndefined(); // a manual run during a run is skipped too
      expect(scheduler.counts.started).toBe(1);
      release();
      await waitFor(() => scheduler.counts.finished >= 1, { what: 'the run to finish', timeoutMs: 5_000, intervalMs: 20 });
      expect(maxRunning).toBe(1);
    } finally {
      release();
      await scheduler.stop();
    }
  }, 20_000);

  it('a failed run is logged and counted; the scheduler goes on', async () => {
    let calls = 0;
    const scheduler = new ReconcileScheduler({
      config: config as never,
      log,
      run: async () => {
        calls += 1;
        if (calls === 1) throw new Error('source unreachable');
        return 'ok';
      },
    });
    expect(await scheduler.runOnce()).toBeUndefined();
    expect(await scheduler.runOnce()).toBe('ok');
    expect(scheduler.counts).toMatchObject({ started: 2, failed: 1, finished: 1 });
    await scheduler.stop();
  });

  it('refuses an invalid schedule', () => {
    const scheduler = new ReconcileScheduler({ config: config as never, log, schedule: 'every night' });
    expect(() => scheduler.start()).toThrow(/not a valid cron expression/);
  });
});
