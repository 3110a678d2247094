import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import type { BridgeHandle, SourceStatus } from '../../runtime/bridge.ts';
import type { RouteModule } from '../server.ts';

/** Whether the NATS connection is up right now, from the client's status events. */
export function natsLiveness(nc: NatsConnection): () => boolean {
  let connected = true;
  void (async () => {
    for await (const event of nc.status()) {
      if (event.type === 'disconnect') connected = false;
      else if (event.type === 'reconnect') connected = true;
    }
  })().catch(() => undefined);
  return () => connected && !nc.isClosed();
}

export interface SourceView extends SourceStatus {
  /** Position of the last change acknowledged by JetStream and handed back to the source. */
  position: string | null;
  commitTs: string | null;
  /** Seconds from that change's source commit to its acknowledgement; null where unknown. */
  lagSeconds: number | null;
  envelopes: number;
  deadLetters: number;
  /** The whole source is paused (docs/pause-resume.md). */
  paused: boolean;
  /** Tables paused on their own. */
  pausedTables: string[];
}

export function sourceViews(bridge: BridgeHandle): SourceView[] {
  return [...bridge.status.values()].map((status) => {
    const counters = bridge.counters.get(status.name);
    const commitTs = counters?.commitTs ?? null;
    const lagSeconds =
      commitTs !== null && counters?.committedAt !== undefined
        ? Math.max(0, (Date.parse(counters.committedAt) - Date.parse(commitTs)) / 1000)
        : null;
    return {
      ...status,
      position: counters?.position ?? null,
      commitTs,
      lagSeconds,
      envelopes: counters?.envelopes ?? 0,
      deadLetters: counters?.deadLetters ?? 0,
      paused: bridge.pause.isSourcePaused(status.name),
      pausedTables: [...bridge.pause.get(status.name).tables],
    };
  });
}

/**
 * `GET /healthz` (503 when a source is offline or NATS is down) and `GET /api/sources`.
 * A `lagging` source (its slot retains more WAL than maxSlotLag) is a warning, not a
 * problem: 200 with `status: degraded`, because it still captures and a restart (what a
 * failing probe leads to) would only hold the slot back longer.
 */
export function sourceRoutes(bridge: BridgeHandle): RouteModule {
  const natsUp = natsLiveness(bridge.nc);
  return (app: FastifyInstance) => {
    app.get('/healthz', async (_request, reply) => {
      const sources = sourceViews(bridge);
      const problems: string[] = [];
      const warnings: string[] = [];
      if (!natsUp()) problems.push('NATS is disconnected');
      for (const source of sources) {
        if (source.state === 'offline') problems.push(`source ${source.name} is offline${source.reason ? `: ${source.reason}` : ''}`);
        if (source.state === 'lagging') warnings.push(`source ${source.name} is lagging${source.reason ? `: ${source.reason}` : ''}`);
      }
      const body = {
        status: problems.length > 0 ? 'unhealthy' : warnings.length > 0 ? 'degraded' : 'ok',
        nats: natsUp() ? 'connected' : 'disconnected',
        sources: Object.fromEntries(sources.map((s) => [s.name, s.state])),
        problems,
        warnings,
      };
      return reply.code(problems.length === 0 ? 200 : 503).send(body);
    });
    app.get('/api/sources', async () => sourceViews(bridge));
  };
}
