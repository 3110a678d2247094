import type { FastifyInstance } from 'fastify';
import { pauseTarget } from '../../control/index.ts';
import type { BridgeHandle } from '../../runtime/bridge.ts';
import type { RouteModule } from '../server.ts';

/**
 * `POST /api/sources/:name/pause` and `/resume`, body optional `{ "table": "schema.table" }`
 * (docs/pause-resume.md). Token required (the server's hook: mutating method). 404 for an
 * unknown source, 400 for a table the source does not map.
 */
export function controlRoutes(bridge: BridgeHandle): RouteModule {
  return (app: FastifyInstance) => {
    for (const action of ['pause', 'resume'] as const) {
      app.post<{ Params: { name: string }; Body: unknown }>(`/api/sources/:name/${action}`, { config: { permission: 'sources' } }, async (request, reply) => {
        const body = request.body ?? {};
        if (typeof body !== 'object' || Array.isArray(body)) return reply.code(400).send({ error: 'body must be a JSON object, e.g. { "table": "public.x" }' });
        const { table, by, ...rest } = body as { table?: unknown; by?: unknown };
        const unknownKeys = Object.keys(rest);
        if (unknownKeys.length > 0) return reply.code(400).send({ error: `unknown key ${JSON.stringify(unknownKeys[0])} (expected table)` });
        if (table !== undefined && (typeof table !== 'string' || table === '')) return reply.code(400).send({ error: 'table must be a non-empty string such as "public.x"' });
        if (by !== undefined && typeof by !== 'string') return reply.code(400).send({ error: 'by must be a string' });
        const problem = pauseTarget(bridge.mappings, request.params.name, table);
        if (problem) return reply.code(problem.status).send({ error: problem.message });
        const state = await bridge.pause.apply(action, { source: request.params.name, ...(table !== undefined ? { table } : {}), by: by ?? 'http' });
        return reply.send({ source: request.params.name, paused: state.paused, pausedTables: state.tables, by: state.by, at: state.at });
      });
    }
  };
}
