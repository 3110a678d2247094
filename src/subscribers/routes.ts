import type { FastifyInstance } from 'fastify';
import type { RouteModule } from '../http/index.ts';
import type { SubscriberManager } from './manager.ts';
import { parseSubscriberBody } from './spec.ts';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

/**
 * GET|POST /api/subscribers, DELETE /api/subscribers/:id and GET /api/deliveries?limit=N.
 * The server's hook already refused mutating calls without the bearer token.
 */
export function subscriberRoutes(manager: SubscriberManager): RouteModule {
  return (app: FastifyInstance) => {
    app.get('/api/subscribers', async () => manager.list());

    app.get<{ Params: { id: string } }>('/api/subscribers/:id', async (request, reply) => {
      const view = manager.view(request.params.id);
      return view === undefined ? reply.code(404).send({ error: `no subscriber ${request.params.id}` }) : view;
    });

    app.post('/api/subscribers', async (request, reply) => {
      const parsed = parseSubscriberBody(request.body);
      if (!parsed.ok) return reply.code(400).send({ error: parsed.problems.join('; '), problems: parsed.problems });
      const result = await manager.add(parsed.spec);
      if (!result.ok) return reply.code(result.status).send({ error: result.error });
      return reply.code(201).send(result.view);
    });

    app.delete<{ Params: { id: string } }>('/api/subscribers/:id', async (request, reply) => {
      const result = await manager.remove(request.params.id);
      if (!result.ok) return reply.code(result.status).send({ error: result.error });
      return reply.code(200).send({ removed: request.params.id });
    });

    app.get<{ Querystring: { limit?: string; sub?: string } }>('/api/deliveries', async (request, reply) => {
      const raw = request.query.limit;
      const limit = raw === undefined ? DEFAULT_LIMIT : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        return reply.code(400).send({ error: `limit: expected an integer from 1 to ${MAX_LIMIT} (got ${JSON.stringify(raw)})` });
      }
      return manager.latestDeliveries(limit, request.query.sub);
    });
  };
}
