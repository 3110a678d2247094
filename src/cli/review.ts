import { userInfo } from 'node:os';
import { loadConfig } from '../config/index.ts';
import { connectConfigNats, countsText, listItem, openReviewStore, type DiffReport } from '../../reconcile/index.ts';
import { getReport, listReports, resolveReport, resyncReportById, resyncSummary, reviewStatusFilter } from '../../reconcile/review-actions.ts';

export interface ReviewOptions {
  config: string;
  json?: boolean;
  note?: string;
  by?: string;
  status?: string;
}

function reviewer(by: string | undefined): string {
  if (by !== undefined && by.trim() !== '') return by.trim();
  try {
    return process.env.USER ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}

async function withStore<T>(configFile: string, use: (ctx: Awaited<ReturnType<typeof open>>) => Promise<T>): Promise<T> {
  const ctx = await open(configFile);
  try {
    return await use(ctx);
  } finally {
    await ctx.nc.drain().catch(() => undefined);
  }
}

async function open(configFile: string) {
  const config = await loadConfig(configFile);
  const nc = await connectConfigNats(config);
  try {
    const store = await openReviewStore(nc, config);
    return { config, nc, store };
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw error;
  }
}

/** `review list [--json]`: every report, newest first (or only those with --status). */
export async function reviewListCommand(opts: ReviewOptions): Promise<number> {
  const status = reviewStatusFilter(opts.status, '--status');
  return withStore(opts.config, async ({ store }) => {
    const reports = await listReports(store, status);
    if (opts.json) {
      process.stdout.write(JSON.stringify(reports.map(listItem), null, 2) + '\n');
      return 0;
    }
    if (reports.length === 0) {
      process.stdout.write('no reports\n');
      return 0;
    }
    for (const r of reports) {
      process.stdout.write(`${r.id}  ${r.status.padEnd(8)}  ${r.createdAt}  ${r.source} ${r.table}  ${countsText(r.counts)}\n`);
    }
    return 0;
  });
}

/** `review show ID [--json]`. */
export async function reviewShowCommand(id: string, opts: ReviewOptions): Promise<number> {
  return withStore(opts.config, async ({ store }) => {
    const report = await getReport(store, id);
    process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : showText(report));
    return 0;
  });
}

export function showText(report: DiffReport): string {
  const lines = [
    `report ${report.id} (${report.status})`,
    `  ${report.source} ${report.table} -> ${report.entity}, compared with ${report.target}, created ${report.createdAt}, start position ${report.runStartPosition}`,
    `  ${countsText(report.counts)}`,
  ];
  if (!report.targetCaughtUp) lines.push('  the target had not caught up to the start position: some differences may be changes still in flight');
  if (report.resolution) {
    const r = report.resolution;
    lines.push(
      `  ${r.action === 'resync' ? (r as { queued?: boolean }).queued ? `resync queued for the poll engine (${r.rows} keys)` : `resynced (${r.rows} rows, ${r.tombstones} tombstones at ${r.position})` : 'resolved'} by ${r.by} at ${r.at}${r.note ? `: ${r.note}` : ''}`,
    );
  }
  for (const d of report.diffs) {
    const key = JSON.stringify(d.key);
    if (d.kind !== 'different') {
      lines.push(`  ${d.kind.padEnd(15)} ${key}`);
      continue;
    }
    lines.push(`  ${d.kind.padEnd(15)} ${key}`);
    for (const f of d.fields ?? []) lines.push(`      ${f.field}: source ${JSON.stringify(f.source)}  target ${JSON.stringify(f.target)}`);
  }
  if (report.moreDiffs > 0) lines.push(`  … ${report.moreDiffs} more differences not listed (the next run after a resync lists them)`);
  return lines.join('\n') + '\n';
}

/** `review resolve ID [--note TEXT] [--by NAME]`. */
export async function reviewResolveCommand(id: string, opts: ReviewOptions): Promise<number> {
  return withStore(opts.config, async ({ store }) => {
    const by = reviewer(opts.by);
    await resolveReport(store, id, { by, note: opts.note });
    process.stdout.write(`report ${id} resolved by ${by}\n`);
    return 0;
  });
}

/** `review resync ID [--by NAME]`: re-emit the report's keys from the source, then resolve it. */
export async function reviewResyncCommand(id: string, opts: ReviewOptions): Promise<number> {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  return withStore(opts.config, async ({ config, nc, store }) => {
    const result = await resyncReportById(config, nc, store, id, { by: reviewer(opts.by), note: opts.note, signal: controller.signal });
    process.stdout.write(resyncSummary(id, result) + '\n');
    return 0;
  });
}
