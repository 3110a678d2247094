/**
 * Runs reconciliation on `reconcile.schedule` (node-cron syntax, local time). One run at a
 * time: a tick that comes while a run is still going is skipped and logged (node-cron's
 * noOverlap), and a tick the process missed (asleep, blocked event loop) is logged too.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
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
    this.task = cron.schedule(this.schedule, (context) => this.runOnce('schedule', context.date), {
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
  async runOnce(trigger: 'schedule' | 'manual' = 'schedule', tick?: Date): Promise<unknown> {
    if (this.current) return undefined;
    const { log } = this.options;
    this.counts.started += 1;
    const recorder = this.options.runs?.start(trigger);
    const run = (this.options.run ?? ((signal) => this.defaultRun(signal, recorder, trigger === 'schedule' ? (tick ?? new Date()) : undefined)))(this.controller.signal);
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

  private async defaultRun(signal: AbortSignal, recorder?: ReconcileRunRecorder, tick?: Date): Promise<TableResult[]> {
    const nc = await connectConfigNats(this.options.config);
    try {
      // A scheduled run fires in every bridge process with this config: each table goes to
      // the first process that claims it for this tick, so the work spreads over them and
      // no table is compared twice (claims live in NATS KV, never in anything of our own).
      const claim = tick === undefined ? undefined : await claimer(nc, this.options.config, tick);
      return await runReconcile(this.options.config, nc, {
        log: this.options.log,
        signal,
        ...(recorder ? { onProgress: recorder.progress } : {}),
        ...(claim ? { claim } : {}),
      });
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

/** Claims live a day: long enough for any run, short enough that the bucket stays small. */
const CLAIM_TTL_MS = 24 * 3_600_000;

/**
 * `claim(source, table)` for one scheduled tick: a KV `create` of `<tick minute>.<table hash>`
 * in `<stream lower>_reconcile_claims`, which succeeds for exactly one process.
 */
export async function claimer(nc: NatsConnection, config: Config, tick: Date): Promise<(source: string, table: string) => Promise<boolean>> {
  const bucket = `${config.nats.stream.toLowerCase()}_reconcile_claims`;
  const kv = await new Kvm(nc).create(bucket, { history: 1, ttl: CLAIM_TTL_MS, replicas: config.nats.replicas });
  const minute = tick.toISOString().slice(0, 16).replace(/[-:]/g, '');
  return async (source, table) => {
    const key = `${minute}.${createHash('sha256').update(JSON.stringify([source, table])).digest('hex').slice(0, 24)}`;
    try {
      await kv.create(key, JSON.stringify({ source, table, host: hostname(), pid: process.pid, at: new Date().toISOString() }));
      return true;
    } catch (error) {
      if (/wrong last sequence|key exists/i.test(errorMessage(error))) return false;
      throw error;
    }
  };
}
