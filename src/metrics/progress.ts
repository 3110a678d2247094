/**
 * Progress of long work (a snapshot's table, a reconciliation run's table): rows done of a
 * total (an estimate where the database only has one), the rate since the start and the time
 * left at that rate. Shown in /api/sources and /api/reconcile, and logged as
 * `event: 'progress'` lines at most every `logEveryMs` (5 s), so a long snapshot says how far
 * it is without flooding the log.
 */
import type { Logger } from '../log.ts';

export type ProgressTask = 'snapshot' | 'reconcile';

export interface ProgressView {
  task: ProgressTask;
  source: string;
  table: string;
  /** What part of the task runs now (reconcile: `source`, `target`, `compare`). */
  phase?: string;
  done: number;
  /** Rows expected: exact or the database's estimate; null where unknown. */
  total: number | null;
  /** Rows a second since the table started; null before a rate can be told. */
  ratePerS: number | null;
  /** Seconds left at that rate; null where the total or the rate is unknown. */
  etaS: number | null;
  startedAt: string;
}

export interface ProgressMeterOptions {
  task: ProgressTask;
  source: string;
  table: string;
  total?: number | null | undefined;
  phase?: string;
  log?: Logger;
  logEveryMs?: number;
  now?: () => number;
}

export const PROGRESS_LOG_EVERY_MS = 5_000;

export class ProgressMeter {
  private done = 0;
  private total: number | null;
  private phase: string | undefined;
  private readonly started: number;
  private lastLog: number;
  private logged = false;
  private readonly now: () => number;

  constructor(private readonly options: ProgressMeterOptions) {
    this.now = options.now ?? Date.now;
    this.started = this.now();
    this.lastLog = this.started;
    this.total = options.total ?? null;
    this.phase = options.phase;
  }

  /** Sets rows done (and the phase); logs when the last progress line is older than logEveryMs. */
  update(done: number, phase?: string): void {
    this.done = done;
    if (phase !== undefined) this.phase = phase;
    const now = this.now();
    if (this.options.log && now - this.lastLog >= (this.options.logEveryMs ?? PROGRESS_LOG_EVERY_MS)) {
      this.lastLog = now;
      this.logged = true;
      this.writeLog(this.view());
    }
  }

  setTotal(total: number | null): void {
    this.total = total;
  }

  /** A last line when the task was long enough to have logged progress at all. */
  finish(): void {
    if (this.logged && this.options.log) this.writeLog({ ...this.view(), etaS: 0 });
  }

  view(): ProgressView {
    const elapsedS = (this.now() - this.started) / 1000;
    const ratePerS = elapsedS >= 0.5 && this.done > 0 ? this.done / elapsedS : null;
    const etaS = ratePerS !== null && this.total !== null ? Math.max(0, (this.total - this.done) / ratePerS) : null;
    return {
      task: this.options.task,
      source: this.options.source,
      table: this.options.table,
      ...(this.phase !== undefined ? { phase: this.phase } : {}),
      done: this.done,
      total: this.total,
      ratePerS: ratePerS === null ? null : Math.round(ratePerS * 10) / 10,
      etaS: etaS === null ? null : Math.round(etaS),
      startedAt: new Date(this.started).toISOString(),
    };
  }

  private writeLog(view: ProgressView): void {
    this.options.log!.info({ event: 'progress', ...view }, progressText(view));
  }
}

/** "snapshot fhwa public.crews: 12,000 / 50,000 rows (24%), 3,400 rows/s, about 11 s left". */
export function progressText(view: ProgressView): string {
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  const parts = [
    `${view.task} ${view.source} ${view.table}${view.phase ? ` (${view.phase})` : ''}: ${n(view.done)}${view.total !== null ? ` / ${n(view.total)}` : ''} rows`,
  ];
  if (view.total !== null && view.total > 0) parts[0] += ` (${Math.min(100, Math.floor((view.done / view.total) * 100))}%)`;
  if (view.ratePerS !== null) parts.push(`${n(view.ratePerS)} rows/s`);
  if (view.etaS !== null) parts.push(`about ${formatSeconds(view.etaS)} left`);
  return parts.join(', ');
}

export function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
