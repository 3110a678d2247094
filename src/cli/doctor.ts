import { loadConfig } from '../config/index.ts';
import { errorMessage } from '../errors.ts';
import { connectNats, natsSecurityOptions } from '../nats/connection.ts';
import { loadSources } from '../runtime/bridge.ts';
import { CAPTURE_KINDS, chooseCaptureMethod } from '../runtime/sources.ts';

const LOG_METHOD_NAMES: Record<string, string> = { postgres: 'pgoutput', mysql: 'row binlog', oracle: 'LogMiner', mssql: 'CDC change tables' };

/** Prints one report per source and for NATS; exit 0 when every source gets the capture it asks for. */
export async function doctorCommand(configFile: string): Promise<number> {
  const config = await loadConfig(configFile);
  const sources = await loadSources(config);
  const out = (line: string): void => void process.stdout.write(line + '\n');
  let ok = true;
  try {
    const nc = await connectNats({ servers: config.nats.servers, ...natsSecurityOptions(config.nats) });
    out(`nats ${config.nats.servers.join(', ')}`);
    out('  ok   connected');
    await nc.close();
  } catch (error) {
    ok = false;
    out(`nats ${config.nats.servers.join(', ')}`);
    out(`  FAIL ${errorMessage(error)}`);
  }
  for (const { config: source, mappings } of sources) {
    if (!CAPTURE_KINDS.has(source.kind)) {
      ok = false;
      out(`source ${source.name} (${source.kind}): no capture module for ${source.kind} in this build`);
      continue;
    }
    let choice;
    try {
      choice = await chooseCaptureMethod(source, mappings);
    } catch (error) {
      ok = false;
      out(`source ${source.name}: FAIL ${errorMessage(error)}`);
      continue;
    }
    const how = choice.method === 'log' ? `log (${LOG_METHOD_NAMES[source.kind] ?? 'pgoutput'})` : 'poll (hash-diff)';
    out(`source ${source.name} (${choice.where}): capture method ${how}: ${choice.reason}`);
    for (const line of choice.lines) out(`  ${line}`);
    if (choice.sql.length > 0) {
      out('  for log capture a DBA can run:');
      for (const statement of choice.sql) out(`    ${statement}`);
    }
    // Non-zero while a source that may use log capture does not get it: a DBA has work to do.
    if (!choice.logPossible && source.capture !== 'poll' && source.kind !== 'sqlite') ok = false;
  }
  return ok ? 0 : 1;
}
