import { diagnoseMysql } from '../../capture/mysql/doctor.ts';
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
    if (source.kind !== 'postgres' && source.kind !== 'mysql') {
      ok = false;
      out(`source ${source.name} (${source.kind}): no capture module for ${source.kind} in this build`);
      continue;
    }
    const report =
      source.kind === 'mysql'
        ? await diagnoseMysql({ url: source.url, mappings })
        : await diagnosePostgres({ url: source.url, publication: source.publication, slot: source.slot, mappings });
    const logMethod = source.kind === 'mysql' ? 'log (row binlog)' : 'log (pgoutput)';
    out(`source ${source.name} (${report.where}): capture method ${report.method === 'log' ? logMethod : 'none available'}`);
    for (const line of report.lines) out(`  ${line}`);
    if (report.sql.length > 0) {
      out('  a DBA can run:');
      for (const statement of report.sql) out(`    ${statement}`);
    }
    ok &&= report.ok;
  }
  return ok ? 0 : 1;
}
