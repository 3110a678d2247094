import type { FastifyInstance } from 'fastify';
import { renderMetrics } from '../../metrics/index.ts';
import type { RouteModule } from '../server.ts';

/** `GET /metrics`: Prometheus text exposition of the bridge's registry (docs/operations.md "Metrics"). */
export function metricsRoutes(): RouteModule {
  return (app: FastifyInstance) => {
    app.get('/metrics', async (_request, reply) => {
      const { contentType, body } = await renderMetrics();
      return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
    });
  };
}
