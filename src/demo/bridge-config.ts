// The bridge's config for the demo, written into the demo's temp dir as a user would write
// theirs, then read back by the same parser `hms-sync run -c` uses.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type Config } from '../config/index.ts';

export interface DemoBridgeConfig {
  dir: string;
  natsUrl: string;
  pgHost: string;
  pgPort: number;
  database: string;
  user: string;
  password: string;
  mappingsDir: string;
  publication: string;
  httpPort: number;
}

export const DEMO_SOURCE = 'demo';
export const DEMO_STREAM = 'HMS_DEMO';
export const DEMO_PREFIX = 'hms.sync';
/** The password reaches the config through a variable, as it would in production: never in the file. */
const PASSWORD_VARIABLE = 'HMS_DEMO_PG_PASSWORD';

export function writeDemoConfig(options: DemoBridgeConfig): { file: string; config: Config } {
  const file = join(options.dir, 'hms-sync.yaml');
  const text = [
    '# Written by `hms-sync demo` for the bridge it runs in-process; removed when the demo stops.',
    'nats:',
    `  servers: ${options.natsUrl}`,
    `  stream: ${DEMO_STREAM}`,
    `  subjectPrefix: ${DEMO_PREFIX}`,
    'sources:',
    `  - name: ${DEMO_SOURCE}`,
    '    kind: postgres',
    `    url: postgres://${options.user}:\${${PASSWORD_VARIABLE}}@${options.pgHost}:${options.pgPort}/${options.database}`,
    '    capture: log',
    `    mappings: ${JSON.stringify(options.mappingsDir)}`,
    `    publication: ${options.publication}`,
    `    slot: hms_sync_${DEMO_SOURCE}`,
    '# For the HTTP console and API (`--port`); this version of hms-sync does not serve them yet.',
    `http: { host: 127.0.0.1, port: ${options.httpPort} }`,
    '# warn: the terminal shows the demo, not the bridge, unless something is wrong.',
    'log: { level: warn }',
    '',
  ].join('\n');
  writeFileSync(file, text, { mode: 0o600 });
  const config = parseConfig(file, text, { ...process.env, [PASSWORD_VARIABLE]: options.password });
  return { file, config };
}
