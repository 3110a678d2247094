import { loadConfig, parseDuration } from '../config/index.ts';
import { HmsSyncError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { connectConfigNats, countsText, DEFAULT_CATCH_UP_MS, runReconcile, type TableResult } from '../../reconcile/index.ts';

export interface ReconcileCommandOptions {
  config: string;
  source?: string;
  table?: string;
  /** How long to wait for the target to catch up to the run's start before re-checking differences. */
  catchUp?: string;
}

/**
 * `hms-sync reconcile`: one run now. Exit 0 whether or not it found differences (they are in
 * the review queue), 1 when the run failed, 2 for a bad config or mapping.
 */
export async function reconcileCommand(opts: ReconcileCommandOptions): Promise<number> {
  const config = await loadConfig(opts.config);
  let catchUpMs = DEFAULT_CATCH_UP_MS;
  if (opts.catchUp !== undefined) {
    const parsed = parseDuration(opts.catchUp);
    if (parsed === undefined) throw new HmsSyncError('CONFIG', `--catch-up: expected a duration such as 5s or 1m, got "${opts.catchUp}"`);
    catchUpMs = parsed;
  }
  const log = createLogger(config.log.level);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const nc = await connectConfigNats(config);
  try {
    const results = await runReconcile(config, nc, {
      ...(opts.source !== undefined ? { source: opts.source } : {}),
      ...(opts.table !== undefined ? { table: opts.table } : {}),
      log,
      signal: controller.signal,
      catchUpMs,
    });
    for (const result of results) process.stdout.write(summaryLines(result));
    return 0;
  } finally {
    await nc.drain().catch(() => undefined);
  }
}

export function summaryLines(r: TableResult): string {
  const s = r.stats;
  const head = `${r.source} ${r.table} -> ${r.entity} (${r.target}): ${s.totals.source} rows in source, ${s.totals.target} in target; `;
  const verdict = r.report
    ? `${countsText(r.counts)}; report ${r.report.id}${r.report.moreDiffs > 0 ? ` (lists ${r.report.diffs.length}, ${r.report.moreDiffs} more not listed)` : ''}`
    : 'clean';
  const details = [
    `checksums ${s.source.checksumQueries}/${s.target.checksumQueries}`,
    `rows compared ${s.source.rowsReturned}/${s.target.rowsReturned}`,
    `rows scanned for the index ${r.scanned.source}/${r.scanned.target}`,
    `in flight ${r.outcome.inFlight}`,
    `settled after catching up ${r.outcome.settled}`,
    ...(r.outcome.caughtUp === false ? ['target had not caught up to the start position by the deadline'] : []),
    ...(r.unmappable > 0 ? [`${r.unmappable} source rows do not map (dead letters) and were left out`] : []),
  ];
  return `${head}${verdict}\n  ${details.join('; ')} (source/target)\n`;
}
