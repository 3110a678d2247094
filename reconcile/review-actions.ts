/**
 * Working the review queue: what `hms-sync review …` (src/cli/review.ts) and the HTTP API
 * (src/http/routes/review.ts) both do, so the two cannot drift apart. Failures a caller must
 * tell apart (unknown report, already resolved, bad filter) are ReviewActionErrors with a
 * `reason`; the CLI turns them into exit codes, the API into 404 / 409 / 400.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../src/config/index.ts';
import { HmsSyncError } from '../src/errors.ts';
import { listItem, resolved, type DiffReport, type ReportListItem } from './report.ts';
import { resyncReport, type ResyncResult } from './resync.ts';
import type { ReviewStore } from './review-store.ts';

export const REVIEW_STATUSES = ['open', 'resolved'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

export type ReviewFailure = 'not_found' | 'already_resolved' | 'bad_status';

export class ReviewActionError extends HmsSyncError {
  constructor(
    readonly reason: ReviewFailure,
    message: string,
  ) {
    super(reason === 'bad_status' ? 'CONFIG' : 'INTERNAL', message);
  }
}

/** `open`, `resolved` or undefined (all); anything else is a bad_status error naming `what`. */
export function reviewStatusFilter(value: unknown, what: string): ReviewStatus | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (REVIEW_STATUSES as readonly string[]).includes(value)) return value as ReviewStatus;
  throw new ReviewActionError('bad_status', `${what}: expected open or resolved, got ${JSON.stringify(value)}`);
}

/** Reports newest first, optionally only open or resolved ones. */
export async function listReports(store: ReviewStore, status?: ReviewStatus): Promise<DiffReport[]> {
  return (await store.list()).filter((r) => status === undefined || r.status === status);
}

/** `review list --json` / GET /api/review: the list items. */
export async function listReportItems(store: ReviewStore, status?: ReviewStatus): Promise<ReportListItem[]> {
  return (await listReports(store, status)).map(listItem);
}

export function reportNotFound(id: string, bucket: string): ReviewActionError {
  return new ReviewActionError('not_found', `no report "${id}" in the review queue (KV bucket ${bucket})`);
}

export async function getReport(store: ReviewStore, id: string): Promise<DiffReport> {
  const found = await store.get(id);
  if (!found) throw reportNotFound(id, store.bucket);
  return found.report;
}

/** Marks an open report resolved (`review resolve`); a resolved one is an already_resolved error. */
export async function resolveReport(store: ReviewStore, id: string, options: { by: string; note?: string | undefined }): Promise<DiffReport> {
  const report = await getReport(store, id);
  if (report.status === 'resolved') {
    const r = report.resolution;
    throw new ReviewActionError('already_resolved', `report ${id} is already resolved${r ? ` (by ${r.by} at ${r.at})` : ''}`);
  }
  const at = new Date().toISOString();
  return store.update(id, (current) => resolved(current, { action: 'resolve', by: options.by, at, ...(options.note !== undefined ? { note: options.note } : {}) }));
}

/** `review resync`: re-emits the report's keys from the source, then resolves it. */
export async function resyncReportById(
  config: Config,
  nc: NatsConnection,
  store: ReviewStore,
  id: string,
  options: { by: string; note?: string | undefined; signal: AbortSignal },
): Promise<ResyncResult> {
  await getReport(store, id);
  return resyncReport(config, nc, store, id, { by: options.by, ...(options.note !== undefined ? { note: options.note } : {}), signal: options.signal });
}

/** What a resync did, in a sentence (the CLI prints it, the API returns it as `message`). */
export function resyncSummary(id: string, result: ResyncResult): string {
  if (result.queued) {
    return (
      `report ${id}: ${result.queued.keys} keys queued for the poll engine (${result.queued.key}); the running bridge re-emits them ` +
      `at its next pass${result.queued.skipped > 0 ? `; ${result.queued.skipped} keys have no source key and were left out` : ''}; ` +
      `resolved by ${result.report.resolution?.by}`
    );
  }
  return (
    `report ${id}: ${result.rows} rows re-emitted as r envelopes, ${result.tombstones} d tombstones, ` +
    `${result.deadLetters} to the dead-letter subject, at position ${result.position}; resolved by ${result.report.resolution?.by}`
  );
}
