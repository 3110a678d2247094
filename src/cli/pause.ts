import { loadConfig } from '../config/index.ts';
import { PauseStore, pauseTarget } from '../control/index.ts';
import { HmsSyncError } from '../errors.ts';
import { connectNats, natsSecurityOptions } from '../nats/connection.ts';
import { loadSources } from '../runtime/bridge.ts';

export interface PauseOptions {
  config: string;
  source: string;
  table?: string;
  by?: string;
}

/**
 * `hms-sync pause|resume -c FILE --source S [--table T]`: writes the source's pause state to
 * NATS KV, where the running bridge (any process with this config) watches it and acts within
 * about a second (docs/pause-resume.md). Exit 2 for an unknown source or table.
 */
export async function pauseCommand(action: 'pause' | 'resume', opts: PauseOptions): Promise<number> {
  const config = await loadConfig(opts.config);
  const sources = await loadSources(config);
  const problem = pauseTarget(new Map(sources.map((s) => [s.config.name, s.mappings])), opts.source, opts.table);
  if (problem) throw new HmsSyncError('CONFIG', `${config.file}: ${problem.message}`);
  const nc = await connectNats({ servers: config.nats.servers, ...natsSecurityOptions(config.nats) });
  try {
    const store = await PauseStore.open(nc, config.nats.offsetsBucket, config.nats.replicas);
    const state = await store.apply(action, { source: opts.source, ...(opts.table !== undefined ? { table: opts.table } : {}), ...(opts.by !== undefined ? { by: opts.by } : {}) });
    const what = opts.table !== undefined ? `table ${opts.table} of source ${opts.source}` : `source ${opts.source}`;
    const tables = state.tables.length > 0 ? state.tables.join(', ') : 'none';
    process.stdout.write(`${action === 'pause' ? 'paused' : 'resumed'} ${what} (source paused: ${state.paused ? 'yes' : 'no'}; paused tables: ${tables})\n`);
  } finally {
    await nc.close().catch(() => undefined);
  }
  return 0;
}
