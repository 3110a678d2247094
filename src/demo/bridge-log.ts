// The in-process bridge's log, as short lines among the demo's own output instead of JSON:
// `bridge warn: row sent to the dead-letter subject (table=… position=…)`. Secrets are masked
// as in every hms-sync log.
import { pino, type Logger } from 'pino';
import { redactSecrets } from '../util/secrets.ts';

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export function bridgeLogger(level: string, write: (line: string) => void): Logger {
  return pino(
    { level, base: undefined, timestamp: false },
    {
      write(json: string) {
        const { level: number, msg, ...fields } = JSON.parse(json) as { level: number; msg?: string } & Record<string, unknown>;
        const details = Object.entries(fields)
          .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
          .join(' ');
        write(redactSecrets(`bridge ${LEVEL_NAMES[number] ?? number}: ${msg ?? ''}${details === '' ? '' : ` (${details})`}`));
      },
    },
  );
}
