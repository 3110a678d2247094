import type { FastifyInstance } from 'fastify';
import type { ReconcileRuns } from '../../metrics/index.ts';
import type { RouteModule } from '../server.ts';

export interface ReconcileRoutesOptions {
  runs: ReconcileRuns;
  /** The process's scheduler: its cron expression, and a run now. */
  scheduler: { schedule: string; running: boolean; runOnce(trigger: 'manual'): Promise<unknown> };
}

/**
 * `GET /api/reconcile`: the reconciliation runs of this process, newest first, with the
 * running one's progress (tables done of all, the current table's rows, rate, ETA).
 * `POST /api/reconcile`: start a run now (202; 409 while one is going).
 */
export function reconcileRoutes(options: ReconcileRoutesOptions): RouteModule {
  return (app: FastifyInstance) => {
    app.get('/api/reconcile', async () => ({
      schedule: options.scheduler.schedule,
      running: options.scheduler.running,
      runs: options.runs.list(),
    }));
    app.post('/api/reconcile', async (_request, reply) => {
      if (options.scheduler.running) return reply.code(409).send({ error: 'a reconciliation run is already going' });
      void options.scheduler.runOnce('manual');
      return reply.code(202).send({ started: true, run: options.runs.list()[0] ?? null });
    });
  };
}
