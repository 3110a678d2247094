/**
 * The review queue over HTTP (issue 5; docs/operations.md "HTTP API"): the same list, report,
 * resolve and resync as `hms-sync review …`, through the same code (reconcile/review-actions.ts).
 *
 *   GET  /api/review[?status=open|resolved]   review list --json
 *   GET  /api/review/:id                      review show ID --json
 *   POST /api/review/:id/resolve  { by?, note? }
 *   POST /api/review/:id/resync   { by?, note? }
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { openReviewStore, type ReviewStore } from '../../../reconcile/index.ts';
import {
  ReviewActionError,
  getReport,
  listReportItems,
  resolveReport,
  resyncReportById,
  resyncSummary,
  reviewStatusFilter,
} from '../../../reconcile/review-actions.ts';
import type { Config } from '../../config/index.ts';
import { HmsSyncError, errorMessage } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { RouteModule } from '../server.ts';

export interface ReviewRoutesOptions {
  config: Config;
  nc: NatsConnection;
  log: Logger;
  /** Aborts resyncs in progress when the bridge stops. */
  signal: AbortSignal;
}

/** `{ by?, note? }`: the fields and their limits, so a 400 can name the one that is wrong. */
export function parseReviewBody(body: unknown): { ok: true; by?: string; note?: string } | { ok: false; error: string } {
  if (body === undefined || body === null || body === '') return { ok: true };
  if (typeof body !== 'object' || Array.isArray(body)) return { ok: false, error: 'body: expected a JSON object such as {"by": "ana", "note": "checked"}' };
  const out: { ok: true; by?: string; note?: string } = { ok: true };
  for (const [field, value] of Object.entries(body as Record<string, unknown>)) {
    if (field !== 'by' && field !== 'note') return { ok: false, error: `${field}: unknown field (expected by and note)` };
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') return { ok: false, error: `${field}: expected a string, got ${Array.isArray(value) ? 'a list' : typeof value}` };
    const max = field === 'by' ? 200 : 2000;
    if (value.length > max) return { ok: false, error: `${field}: at most ${max} characters (got ${value.length})` };
    if (field === 'by') {
      if (value.trim() === '') return { ok: false, error: 'by: must not be blank' };
      out.by = value.trim();
    } else out.note = value;
  }
  return out;
}

export function reviewRoutes(options: ReviewRoutesOptions): RouteModule {
  let store: Promise<ReviewStore> | undefined;
  const openStore = (): Promise<ReviewStore> => {
    store ??= openReviewStore(options.nc, options.config).catch((error: unknown) => {
      store = undefined; // the next request tries again
      throw error;
    });
    return store;
  };

  /** Who resolves: the body's `by`, else the token's name ("admin" for http.token). */
  const reviewer = (request: FastifyRequest, by: string | undefined): string => by ?? `http:${request.principal?.name ?? 'anonymous'}`;

  const fail = (reply: FastifyReply, error: unknown): FastifyReply => {
    if (error instanceof ReviewActionError) {
      const status = error.reason === 'not_found' ? 404 : error.reason === 'already_resolved' ? 409 : 400;
      return reply.code(status).send({ error: error.message });
    }
    if (error instanceof HmsSyncError) {
      // The config cannot do it (a source kind resync does not support): the caller's request
      // cannot succeed as is. An unreachable source or NATS: try again later.
      if (error.code === 'CONFIG' || error.code === 'MAPPING') return reply.code(422).send({ error: error.message });
      if (error.retryable || error.code.startsWith('SOURCE_') || error.code === 'NATS') return reply.code(503).send({ error: error.message });
    }
    throw error;
  };

  return (app: FastifyInstance) => {
    app.get<{ Querystring: { status?: string } }>('/api/review', { config: { permission: 'review' } }, async (request, reply) => {
      try {
        const status = reviewStatusFilter(request.query.status, 'status');
        return await listReportItems(await openStore(), status);
      } catch (error) {
        return fail(reply, error);
      }
    });

    app.get<{ Params: { id: string } }>('/api/review/:id', { config: { permission: 'review' } }, async (request, reply) => {
      try {
        return await getReport(await openStore(), request.params.id);
      } catch (error) {
        return fail(reply, error);
      }
    });

    app.post<{ Params: { id: string } }>('/api/review/:id/resolve', { config: { permission: 'review' } }, async (request, reply) => {
      const body = parseReviewBody(request.body);
      if (!body.ok) return reply.code(400).send({ error: body.error });
      try {
        const report = await resolveReport(await openStore(), request.params.id, { by: reviewer(request, body.by), note: body.note });
        options.log.info({ event: 'review_resolved', report: report.id, by: report.resolution?.by }, `report ${report.id} resolved by ${report.resolution?.by}`);
        return report;
      } catch (error) {
        return fail(reply, error);
      }
    });

    app.post<{ Params: { id: string } }>('/api/review/:id/resync', { config: { permission: 'review' } }, async (request, reply) => {
      const body = parseReviewBody(request.body);
      if (!body.ok) return reply.code(400).send({ error: body.error });
      const id = request.params.id;
      try {
        const result = await resyncReportById(options.config, options.nc, await openStore(), id, {
          by: reviewer(request, body.by),
          note: body.note,
          signal: options.signal,
        });
        const message = resyncSummary(id, result);
        options.log.info({ event: 'review_resynced', report: id, rows: result.rows, tombstones: result.tombstones, queued: result.queued !== undefined }, message);
        return {
          report: result.report,
          rows: result.rows,
          tombstones: result.tombstones,
          deadLetters: result.deadLetters,
          ...(result.position !== undefined ? { position: result.position } : {}),
          ...(result.queued !== undefined ? { queued: result.queued } : {}),
          message,
        };
      } catch (error) {
        if (!(error instanceof ReviewActionError)) options.log.warn({ report: id, err: errorMessage(error) }, `resync of report ${id} failed: ${errorMessage(error)}`);
        return fail(reply, error);
      }
    });
  };
}
