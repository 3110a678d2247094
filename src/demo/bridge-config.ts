// The bridge's config for the demo, written into the demo's temp dir as a user would write
// theirs, then read back by the same parser `hms-sync run -c` uses.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type Config } from '../config/index.ts';
import type { ModernDatabase } from './modern-database.ts';

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
  /** The console's and API's token (pause, resume, resolve, resync). */
  httpToken: string;
  /** Where the demo's subscriber delivers. */
  modern: ModernDatabase;
}

export const DEMO_SOURCE = 'demo';
export const DEMO_STREAM = 'HMS_DEMO';
export const DEMO_PREFIX = 'hms.sync';
export const DEMO_SUBSCRIBER = 'modern';
/** Secrets reach the config through variables, as they would in production: never in the file. */
const PASSWORD_VARIABLE = 'HMS_DEMO_PG_PASSWORD';
const TOKEN_VARIABLE = 'HMS_DEMO_HTTP_TOKEN';
const MODERN_PASSWORD_VARIABLE = 'HMS_DEMO_MODERN_PASSWORD';

export function writeDemoConfig(options: DemoBridgeConfig): { file: string; config: Config } {
  const file = join(options.dir, 'hms-sync.yaml');
  const { modern } = options;
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
    '# A modern copy: every entity, from the stream\'s first envelope, upserted into its own table.',
    'subscribers:',
    `  - id: ${DEMO_SUBSCRIBER}`,
    '    type: postgres',
    `    endpoint: postgres://${modern.user}:\${${MODERN_PASSWORD_VARIABLE}}@${options.pgHost}:${options.pgPort}/${modern.database}`,
    '    topics: ["*"]',
    '    from: start',
    '# The HTTP API and web console (`--port`).',
    `http: { host: 127.0.0.1, port: ${options.httpPort}, token: \${${TOKEN_VARIABLE}} }`,
    '# warn: the terminal shows the demo, not the bridge, unless something is wrong.',
    'log: { level: warn }',
    '',
  ].join('\n');
  writeFileSync(file, text, { mode: 0o600 });
  const config = parseConfig(file, text, {
    ...process.env,
    [PASSWORD_VARIABLE]: options.password,
    [TOKEN_VARIABLE]: options.httpToken,
    [MODERN_PASSWORD_VARIABLE]: modern.password,
  });
  return { file, config };
}
