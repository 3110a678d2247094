import { pino, type Logger } from 'pino';
import { redactSecrets } from './util/secrets.ts';

export type { Logger };

/**
 * Logs go to stderr as JSON lines (stdout is kept for command output such as --json).
 * Every string that came from a ${VAR} is masked, wherever it appears in a line.
 */
export function createLogger(level: string = process.env.HMS_SYNC_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: {
        streamWrite: (line: string) => redactSecrets(line),
      },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
