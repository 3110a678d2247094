import type { FastifyInstance, FastifyRequest } from 'fastify';
import { roleAllows, type RouteModule } from '../http/index.ts';
import type { SubscriberManager } from './manager.ts';
import { parseSubscriberBody } from './spec.ts';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

/**
 * GET|POST /api/subscribers, DELETE /api/subscribers/:id and GET /api/deliveries?limit=N.
 * The server's hook already refused calls without a token that may use `subscribers`
 * (reads too, once scoped tokens are configured). A token scoped to a role sees, registers
 * and removes only subscribers of its role; another role's subscriber is "not found" to it.
 */
export function subscriberRoutes(manager: SubscriberManager): RouteModule {
  const visible = (request: FastifyRequest, role: string | undefined): boolean => roleAllows(request.principal, role);
  const roleOf = (id: string): string | undefined => manager.view(id)?.role;
  return (app: FastifyInstance) => {
    const config = { permission: 'subscribers' as const };
    app.get('/api/subscribers', { config }, async (request) => manager.list().filter((view) => visible(request, view.role)));

    app.get<{ Params: { id: string } }>('/api/subscribers/:id', { config }, async (request, reply) => {
      const view = manager.view(request.params.id);
      return view === undefined || !visible(request, view.role) ? reply.code(404).send({ error: `no subscriber ${request.params.id}` }) : view;
    });

    app.post('/api/subscribers', { config }, async (request, reply) => {
      const parsed = parseSubscriberBody(request.body);
      if (!parsed.ok) return reply.code(400).send({ error: parsed.problems.join('; '), problems: parsed.problems });
      const role = request.principal?.admin ? undefined : request.principal?.role;
      if (role !== undefined) {
        if (parsed.spec.role === undefined) parsed.spec.role = role;
        else if (parsed.spec.role !== role) {
          return reply.code(403).send({ error: `role: token "${request.principal!.name}" may register subscribers of role ${role} only` });
        }
      }
      const result = await manager.add(parsed.spec);
      if (!result.ok) return reply.code(result.status).send({ error: result.error });
      return reply.code(201).send(result.view);
    });

    app.delete<{ Params: { id: string } }>('/api/subscribers/:id', { config }, async (request, reply) => {
      const { id } = request.params;
      if (manager.view(id) !== undefined && !visible(request, roleOf(id))) return reply.code(404).send({ error: `no subscriber ${id}` });
      const result = await manager.remove(id);
      if (!result.ok) return reply.code(result.status).send({ error: result.error });
      return reply.code(200).send({ removed: id });
    });

    app.get<{ Querystring: { limit?: string; sub?: string } }>('/api/deliveries', { config }, async (request, reply) => {
      const raw = request.query.limit;
      const limit = raw === undefined ? DEFAULT_LIMIT : Number(raw);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        return reply.code(400).send({ error: `limit: expected an integer from 1 to ${MAX_LIMIT} (got ${JSON.stringify(raw)})` });
      }
      const scoped = request.principal !== undefined && !request.principal.admin && request.principal.role !== undefined;
      if (!scoped) return manager.latestDeliveries(limit, request.query.sub);
      // A role's token reads its own subscribers' deliveries only.
      const own = new Set(manager.list().filter((view) => visible(request, view.role)).map((view) => view.id));
      if (request.query.sub !== undefined && !own.has(request.query.sub)) return [];
      return manager.latestDeliveries(MAX_LIMIT, request.query.sub).filter((record) => own.has(record.sub)).slice(0, limit);
    });
  };
}
