// The HTTP API and web console of a running bridge: one list of route modules, shared by
// `hms-sync run` and `hms-sync demo`, so the demo's console shows exactly what a real bridge's does.
import type { HttpConfig } from '../config/index.ts';
import {
  consoleRoutes,
  deadLetterRoutes,
  metricsRoutes,
  reconcileRoutes,
  reviewRoutes,
  sourceRoutes,
  startHttpServer,
  type HttpServerHandle,
  type ReconcileRoutesOptions,
} from '../http/index.ts';
import { controlRoutes } from '../http/routes/control.ts';
import type { Logger } from '../log.ts';
import type { ReconcileRuns } from '../metrics/index.ts';
import { subscriberRoutes, type SubscriberManager } from '../subscribers/index.ts';
import { webhookRoutes } from '../webhook/index.ts';
import type { BridgeHandle } from './bridge.ts';

export interface HttpServices {
  /** The running bridge (its config, NATS connection, source states, pause state, mappings). */
  bridge: BridgeHandle;
  subscribers: SubscriberManager;
  /** This process's reconciliation runs and the scheduler that starts them. */
  reconcile: { runs: ReconcileRuns; scheduler: ReconcileRoutesOptions['scheduler'] };
  log: Logger;
  /** Aborts review resyncs in progress when the bridge stops. */
  signal: AbortSignal;
}

/**
 * Starts the HTTP server of `http` (the config's `http:` block) with every route module of the
 * API and console; each module owns its paths (DESIGN.md "HTTP"). Throws the server's
 * HmsSyncError when it cannot listen (its cause carries the system error, e.g. EADDRINUSE).
 */
export async function startHttpServices(http: HttpConfig, services: HttpServices): Promise<HttpServerHandle> {
  const { bridge, subscribers, reconcile, log, signal } = services;
  const { config, nc } = bridge;
  return startHttpServer(http, log, [
    sourceRoutes(bridge),
    subscriberRoutes(subscribers),
    controlRoutes(bridge),
    await webhookRoutes(bridge),
    metricsRoutes(),
    reviewRoutes({ config, nc, log, signal }),
    reconcileRoutes({ runs: reconcile.runs, scheduler: reconcile.scheduler }),
    deadLetterRoutes({ nc, stream: config.nats.stream, subjectPrefix: config.nats.subjectPrefix }),
    consoleRoutes({ mappings: bridge.mappings }),
  ]);
}
