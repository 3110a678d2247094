/**
 * Runs reconciliation on `reconcile.schedule` (node-cron syntax, local time). One run at a
 * time: a tick that comes while a run is still going is skipped and logged (node-cron's
 * noOverlap), and a tick the process missed (asleep, blocked event loop) is logged too.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Config } from '../src/config/index.ts';
import { errorMessage } from '../src/errors.ts';
import type { Logger } from '../src/log.ts';
import type { ReconcileRunRecorder, ReconcileRuns } from '../src/metrics/reconcile-runs.ts';
import { connectConfigNats, runReconcile, type TableResult } from './run.ts';

export interface ReconcileSchedulerOptions {
  config: Config;
  log: Logger;
  /** The run itself; default: a full reconciliation over a fresh NATS connection. */
  run?: (signal: AbortSignal) => Promise<unknown>;
  /** Overrides config.reconcile.schedule (tests). */
  schedule?: string;
  /** Where runs and their progress are recorded (GET /api/reconcile). */
  runs?: ReconcileRuns;
}

export class ReconcileScheduler {
  private task: ScheduledTask | undefined;
  private readonly controller = new AbortController();
  private current: Promise<unknown> | undefined;
  /** Counters for status pages and tests. */
  readonly counts = { started: 0, finished: 0, failed: 0, overlapped: 0, missed: 0 };

  constructor(private readonly options: ReconcileSchedulerOptions) {}

  get schedule(): string {
    return this.options.schedule ?? this.options.config.reconcile.schedule;
  }

  start(): void {
    if (this.task) return;
    const { log } = this.options;
    if (!cron.validate(this.schedule)) throw new Error(`reconcile.schedule "${this.schedule}" is not a valid cron expression`);
    this.task = cron.schedule(this.schedule, () => this.runOnce(), {
      name: 'hms-sync-reconcile',
      noOverlap: true,
      // Our own log lines below say it instead of node-cron's console warning.
      suppressMissedWarning: true,
      logger: {
        info: (message) => log.debug(`node-cron: ${message}`),
        warn: (message) => log.debug(`node-cron: ${message}`),
        error: (message) => log.debug(`node-cron: ${String(message)}`),
        debug: (message) => log.debug(`node-cron: ${String(message)}`),
      },
    });
    this.task.on('execution:overlap', () => {
      this.counts.overlapped += 1;
      log.warn({ schedule: this.schedule }, 'reconcile: the previous run is still going; this scheduled run is skipped');
    });
    this.task.on('execution:missed', (context) => {
      this.counts.missed += 1;
      log.warn({ schedule: this.schedule, due: context.date.toISOString() }, 'reconcile: a scheduled run was missed (the process was busy or asleep)');
    });
    log.info({ schedule: this.schedule, next: this.task.getNextRun()?.toISOString() }, 'reconcile scheduled');
  }

  /** Runs now unless a run is going (then resolves with undefined). */
  async runOnce(trigger: 'schedule' | 'manual' = 'schedule'): Promise<unknown> {
    if (this.current) return undefined;
    const { log } = this.options;
    this.counts.started += 1;
    const recorder = this.options.runs?.start(trigger);
    const run = (this.options.run ?? ((signal) => this.defaultRun(signal, recorder)))(this.controller.signal);
    this.current = run;
    try {
      const result = await run;
      this.counts.finished += 1;
      recorder?.finish();
      return result;
    } catch (error) {
      this.counts.failed += 1;
      recorder?.fail(errorMessage(error));
      log.error({ err: errorMessage(error) }, `reconcile failed: ${errorMessage(error)}`);
      return undefined;
    } finally {
      this.current = undefined;
    }
  }

  /** Whether a run is going now. */
  get running(): boolean {
    return this.current !== undefined;
  }

  private async defaultRun(signal: AbortSignal, recorder?: ReconcileRunRecorder): Promise<TableResult[]> {
    const nc = await connectConfigNats(this.options.config);
    try {
      return await runReconcile(this.options.config, nc, { log: this.options.log, signal, ...(recorder ? { onProgress: recorder.progress } : {}) });
    } finally {
      await nc.drain().catch(() => undefined);
    }
  }

  /** Stops scheduling, aborts a run in progress and waits for it to end. */
  async stop(): Promise<void> {
    await this.task?.destroy();
    this.task = undefined;
    this.controller.abort();
    await this.current?.catch(() => undefined);
  }
}
