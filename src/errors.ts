/**
 * One error type for the whole bridge. `code` says what kind of failure it is, `retryable`
 * whether another attempt can help (a refused connection can; a bad mapping file cannot),
 * and the message names what and where (file:line, server, table).
 */
export type ErrorCode =
  | 'CONFIG' // bad config file: exit 2
  | 'MAPPING' // bad mapping file: exit 2
  | 'SOURCE_UNREACHABLE' // connection refused, DNS, timeout
  | 'SOURCE_AUTH' // wrong password, unknown user
  | 'SOURCE_PRIVILEGE' // missing grant, publication or slot not permitted
  | 'SOURCE_STATE' // slot missing, WAL gone, table missing from publication
  | 'NATS' // NATS unreachable or JetStream error
  | 'PUBLISH' // a publish was rejected
  | 'ABORTED' // cancelled by signal
  | 'INTERNAL';

export interface HmsSyncErrorOptions {
  cause?: unknown;
  retryable?: boolean;
}

export class HmsSyncError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: HmsSyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HmsSyncError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** Exit code for a CLI command that failed with this error (DESIGN.md: 2 for bad config or mapping). */
export function exitCodeOf(error: unknown): number {
  if (error instanceof HmsSyncError && (error.code === 'CONFIG' || error.code === 'MAPPING')) return 2;
  return 1;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
