/**
 * Reconciliation runs of this process (scheduled by `run`): what GET /api/reconcile and the
 * console show. Kept in memory, the last `keep` runs; the reports themselves are in the
 * review queue.
 */
import type { ProgressView } from './progress.ts';

export interface ReconcileTableSummary {
  source: string;
  table: string;
  counts: { missingInTarget: number; missingInSource: number; different: number };
  /** The report opened for the table's differences. */
  report?: string;
}

/** What a run reports while it goes (reconcile/run.ts `onProgress`). */
export interface ReconcileProgress {
  tablesTotal: number;
  tablesDone: number;
  /** The table being compared now; absent between tables. */
  current?: ProgressView;
  finished: ReconcileTableSummary[];
}

export interface ReconcileRunView {
  id: number;
  trigger: 'schedule' | 'manual';
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt?: string;
  error?: string;
  tables: { total: number; done: number };
  progress?: ProgressView;
  results: ReconcileTableSummary[];
}

export interface ReconcileRunRecorder {
  progress(progress: ReconcileProgress): void;
  finish(): void;
  fail(error: string): void;
}

export class ReconcileRuns {
  private readonly runs: ReconcileRunView[] = [];
  private next = 1;

  constructor(private readonly keep = 20) {}

  start(trigger: ReconcileRunView['trigger']): ReconcileRunRecorder {
    const run: ReconcileRunView = { id: this.next++, trigger, status: 'running', startedAt: new Date().toISOString(), tables: { total: 0, done: 0 }, results: [] };
    this.runs.unshift(run);
    this.runs.splice(this.keep);
    return {
      progress: (p) => {
        run.tables = { total: p.tablesTotal, done: p.tablesDone };
        run.results = p.finished;
        if (p.current) run.progress = p.current;
        else delete run.progress;
      },
      finish: () => {
        run.status = 'done';
        run.finishedAt = new Date().toISOString();
        delete run.progress;
      },
      fail: (error) => {
        run.status = 'failed';
        run.error = error;
        run.finishedAt = new Date().toISOString();
        delete run.progress;
      },
    };
  }

  /** Newest first. */
  list(): ReconcileRunView[] {
    return this.runs.map((r) => ({ ...r, tables: { ...r.tables }, results: [...r.results] }));
  }
}
