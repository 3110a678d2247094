import { diagnosePostgres } from '../../capture/postgres/doctor.ts';
import { loadConfig } from '../config/index.ts';
import { errorMessage } from '../errors.ts';
import { connectNats } from '../nats/connection.ts';
import { loadSources } from '../runtime/bridge.ts';

/** Prints one report per source and for NATS; exit 0 when every source can capture. */
export async function doctorCommand(configFile: string): Promise<number> {
  const config = await loadConfig(configFile);
  const sources = await loadSources(config);
  const out = (line: string): void => void process.stdout.write(line + '\n');
  let ok = true;
  try {
    const nc = await connectNats({ servers: config.nats.servers });
    out(`nats ${config.nats.servers.join(', ')}`);
    out('  ok   connected');
    await nc.close();
  } catch (error) {
    ok = false;
    out(`nats ${config.nats.servers.join(', ')}`);
    out(`  FAIL ${errorMessage(error)}`);
  }
  for (const { config: source, mappings } of sources) {
    if (source.kind !== 'postgres') {
      ok = false;
      out(`source ${source.name} (${source.kind}): no capture module for ${source.kind} in this build`);
      continue;
    }
    const report = await diagnosePostgres({ url: source.url, publication: source.publication, slot: source.slot, mappings });
    out(`source ${source.name} (${report.where}): capture method ${report.method === 'log' ? 'log (pgoutput)' : 'none available'}`);
    for (const line of report.lines) out(`  ${line}`);
    if (report.sql.length > 0) {
      out('  a DBA can run:');
      for (const statement of report.sql) out(`    ${statement}`);
    }
    ok &&= report.ok;
  }
  return ok ? 0 : 1;
}
