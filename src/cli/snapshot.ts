import { readCurrentRows } from '../../capture/postgres/resnapshot.ts';
import { loadConfig } from '../config/index.ts';
import { HmsSyncError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { connectNats, natsSecurityOptions, payloadLimit } from '../nats/connection.ts';
import { tableRoute, translate, type TableRoute } from '../pipeline/translate.ts';
import { JetStreamPublisher, ensureStream } from '../publisher/index.ts';
import { loadSources } from '../runtime/bridge.ts';
import { currentPositionSpace } from '../runtime/position-space.ts';
import { queueResync } from '../../capture/poll/resync-requests.ts';
import { Kvm, type KV } from '@nats-io/kv';
import { randomBytes } from 'node:crypto';

/**
 * `hms-sync snapshot`: re-emits the current rows as `r` envelopes and waits for every ack. For a
 * polled source the tables are queued for the running poll engine instead (its positions are
 * its passes' own: capture/poll/resync-requests.ts), which re-emits them at its next pass.
 */
export async function snapshotCommand(opts: { config: string; source?: string; table?: string }): Promise<number> {
  const config = await loadConfig(opts.config);
  const log = createLogger(config.log.level);
  const sources = (await loadSources(config)).filter((s) => !opts.source || s.config.name === opts.source);
  if (sources.length === 0) throw new HmsSyncError('CONFIG', `${config.file}: no source named "${opts.source}"`);
  const nc = await connectNats({ servers: config.nats.servers, ...natsSecurityOptions(config.nats) });
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  try {
    await ensureStream(nc, {
      stream: config.nats.stream,
      subjectPrefix: config.nats.subjectPrefix,
      duplicateWindowMs: config.nats.duplicateWindowMs,
      replicas: config.nats.replicas,
    });
    let offsets: KV | undefined;
    try {
      offsets = await new Kvm(nc).open(config.nats.offsetsBucket);
    } catch {
      offsets = undefined;
    }
    for (const { config: source, mappings: all } of sources) {
      const space = await currentPositionSpace(async (key) => (offsets ? (await offsets.get(key).catch(() => null))?.json() : undefined), source.name);
      if (space.method === 'poll' && offsets) {
        const mappings = all.filter((m) => !opts.table || m.table === opts.table);
        if (mappings.length === 0) throw new HmsSyncError('CONFIG', `source ${source.name} has no mapping for table ${opts.table}`);
        const requestedAt = new Date().toISOString();
        for (const mapping of mappings) {
          const id = `snapshot-${requestedAt.replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
          await queueResync({ put: async (k, v) => void (await offsets!.put(k, JSON.stringify(v))) }, source.name, { id, table: mapping.table, requestedAt });
        }
        process.stdout.write(`${source.name}: polled source; ${mappings.length} tables queued for the poll engine, which re-emits their rows as r at its next pass\n`);
        continue;
      }
      if (source.kind !== 'postgres') throw new HmsSyncError('CONFIG', `snapshot supports postgres sources in this build, not ${source.kind}`);
      const mappings = all.filter((m) => !opts.table || m.table === opts.table);
      if (mappings.length === 0) throw new HmsSyncError('CONFIG', `source ${source.name} has no mapping for table ${opts.table}`);
      const publisher = new JetStreamPublisher(nc, { maxInflight: config.nats.maxInflight, ackTimeoutMs: 5_000, maxSends: 12 });
      const routes = new Map<string, TableRoute>();
      const ctx = {
        sourceName: source.name,
        sourceKind: source.kind,
        subjectPrefix: config.nats.subjectPrefix,
        timezone: source.timezone,
        maxPayload: payloadLimit(nc),
        positionPrefix: space.prefix,
      };
      let envelopes = 0;
      let deadLetters = 0;
      try {
        for await (const batch of readCurrentRows({
          url: source.url,
          mappings,
          chunkSize: source.poll.chunkSize,
          log,
          signal: controller.signal,
          onTables: (keys) => {
            for (const m of mappings) routes.set(m.table, tableRoute(m, keys.get(m.table)!));
          },
        })) {
          const now = new Date().toISOString();
          for (const change of batch.changes) {
            const out = translate(change, routes.get(change.table)!, ctx, now);
            if (out.deadLetter) deadLetters += 1;
            else envelopes += 1;
            const handedOver = publisher.publish(out.message);
            if (handedOver) await handedOver;
          }
        }
        await publisher.waitAcked(publisher.lastSequence, controller.signal);
      } finally {
        await publisher.close();
      }
      process.stdout.write(`${source.name}: ${envelopes} rows re-emitted as r envelopes, ${deadLetters} to the dead-letter subject\n`);
    }
    return controller.signal.aborted ? 1 : 0;
  } finally {
    await nc.drain().catch(() => undefined);
  }
}
