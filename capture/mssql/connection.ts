/**
 * SQL Server sessions through `mssql` (tedious underneath), and the driver's errors as
 * HmsSyncErrors that name the server and say what to do.
 *
 * Every query this project runs selects DECIMAL, MONEY and the date/time types through CONVERT
 * to text (values.ts): tedious would hand DECIMAL over as a JS number and DATETIME2 as a JS Date
 * cut to milliseconds. BIGINT arrives as text from tedious already.
 */
import sql from 'mssql';
import { HmsSyncError, errorMessage } from '../../src/errors.ts';

export interface MssqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  encrypt: boolean;
  trustServerCertificate: boolean;
}

function flag(value: string | null, fallback: boolean): boolean {
  if (value === null) return fallback;
  return /^(1|true|yes|on)$/i.test(value);
}

/** mssql://user:pass@host:1433/db[?encrypt=false&trustServerCertificate=true] -> connection settings. */
export function parseMssqlUrl(url: string): MssqlTarget {
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database === '') {
    throw new HmsSyncError('CONFIG', `mssql url ${u.protocol}//${u.host}: the path must name the database, e.g. mssql://user:pass@host:1433/legacy`);
  }
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 1433,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
    encrypt: flag(u.searchParams.get('encrypt'), true),
    trustServerCertificate: flag(u.searchParams.get('trustServerCertificate'), false),
  };
}

/** "mssql 127.0.0.1:1433/legacy": how messages name the server (never with the password). */
export function describeServer(url: string): string {
  try {
    const u = new URL(url);
    return `mssql ${u.hostname}:${u.port || '1433'}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'mssql (unparseable url)';
  }
}

export function poolConfig(url: string, options: { requestTimeoutMs?: number } = {}): sql.config {
  const target = parseMssqlUrl(url);
  return {
    server: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    connectionTimeout: 10_000,
    requestTimeout: options.requestTimeoutMs ?? 60_000,
    // One connection: statements of one capture run in order on one session.
    pool: { min: 0, max: 1, idleTimeoutMillis: 60_000 },
    options: {
      encrypt: target.encrypt,
      trustServerCertificate: target.trustServerCertificate,
      // Dates are converted to text in SQL; were one to slip through, it would be built in UTC, not local time.
      useUTC: true,
      appName: 'hms-sync',
      enableArithAbort: true,
    },
  };
}

/** A connected pool of one session, with the session settings every capture query relies on. */
export async function connectMssql(url: string, where: string, options: { requestTimeoutMs?: number } = {}): Promise<sql.ConnectionPool> {
  const pool = new sql.ConnectionPool(poolConfig(url, options));
  // A pool whose server goes away emits 'error'; the next query fails and says so instead.
  pool.on('error', () => undefined);
  try {
    await pool.connect();
    await pool.request().batch('SET DATEFORMAT ymd; SET LANGUAGE us_english; SET TRANSACTION ISOLATION LEVEL READ COMMITTED;');
    return pool;
  } catch (error) {
    await pool.close().catch(() => undefined);
    throw classifyMssqlError(error, where);
  }
}

export function quoteIdent(name: string): string {
  return '[' + name.replace(/]/g, ']]') + ']';
}

export function quoteTable(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

export function quoteLiteral(value: string): string {
  return "N'" + value.replace(/'/g, "''") + "'";
}

/** Server error numbers this module tells apart. */
const ERR = {
  LOGIN_FAILED: 18456,
  ACCOUNT_LOCKED: 18486,
  PASSWORD_EXPIRED: 18487,
  PASSWORD_MUST_CHANGE: 18488,
  CANNOT_OPEN_DATABASE: 4060,
  NOT_VALID_USER_IN_DB: 916,
  PERMISSION_DENIED_OBJECT: 229,
  PERMISSION_DENIED_DATABASE: 262,
  PERMISSION_DENIED_SERVER: 300,
  VIEW_SERVER_STATE: 297,
  INVALID_OBJECT: 208,
  LSN_OUT_OF_RANGE: 313,
  SNAPSHOT_NOT_ALLOWED: 3952,
} as const;

const UNREACHABLE_CODES = new Set(['ESOCKET', 'ETIMEOUT', 'ECONNCLOSED', 'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTOPEN']);

function errorNumber(error: unknown): number | undefined {
  const e = error as { number?: number; originalError?: { number?: number; info?: { number?: number } }; precedingErrors?: Array<{ number?: number }> };
  const n = e?.number ?? e?.originalError?.number ?? e?.originalError?.info?.number;
  if (typeof n === 'number') return n;
  const text = errorMessage(error);
  if (/Login failed for user/i.test(text)) return ERR.LOGIN_FAILED;
  if (/Cannot open database/i.test(text)) return ERR.CANNOT_OPEN_DATABASE;
  return undefined;
}

/**
 * A driver error -> one HmsSyncError whose message is a single line naming the server, what
 * went wrong and what to do (unreachable: retried soon; password and grants: retried later).
 */
export function classifyMssqlError(error: unknown, where: string): HmsSyncError {
  if (error instanceof HmsSyncError) return error;
  const e = (error ?? {}) as { code?: string; originalError?: { code?: string; cause?: { code?: string } } };
  const message = errorMessage(error).split('\n')[0]!.trim();
  const code = e.code ?? e.originalError?.code;
  const number = errorNumber(error);
  if (number === ERR.LOGIN_FAILED || (code === 'ELOGIN' && number === undefined)) {
    return new HmsSyncError('SOURCE_AUTH', `${where}: authentication failed (${message}); check the user and password in the source url`, {
      cause: error,
      retryable: true,
    });
  }
  if (number === ERR.ACCOUNT_LOCKED || number === ERR.PASSWORD_EXPIRED || number === ERR.PASSWORD_MUST_CHANGE) {
    return new HmsSyncError('SOURCE_AUTH', `${where}: ${message}; a DBA can run: ALTER LOGIN <bridge login> WITH PASSWORD = '…' UNLOCK`, { cause: error, retryable: true });
  }
  if (number === ERR.CANNOT_OPEN_DATABASE || number === ERR.NOT_VALID_USER_IN_DB) {
    return new HmsSyncError(
      'SOURCE_PRIVILEGE',
      `${where}: ${message}; the database of the source url must exist and the login needs a user in it (a DBA can run: CREATE USER <bridge user> FOR LOGIN <bridge login>;)`,
      { cause: error, retryable: true },
    );
  }
  if ((code && UNREACHABLE_CODES.has(code)) || /ECONNREFUSED|Could not connect|Connection lost|socket hang up/i.test(message)) {
    return new HmsSyncError(
      'SOURCE_UNREACHABLE',
      `${where}: cannot reach the server: ${message}${code && !message.includes(code) ? ` (${code})` : ''}; check that SQL Server runs, accepts TCP connections, and that the host and port of the source url reach it`,
      { cause: error, retryable: true },
    );
  }
  switch (number) {
    case ERR.PERMISSION_DENIED_OBJECT:
    case ERR.PERMISSION_DENIED_DATABASE:
    case ERR.PERMISSION_DENIED_SERVER:
    case ERR.VIEW_SERVER_STATE:
      return new HmsSyncError(
        'SOURCE_PRIVILEGE',
        `${where}: ${message}; the account lacks a grant (hms-sync doctor prints the statements: SELECT on the mapped tables, and for CDC the gating role of each capture instance or db_owner)`,
        { cause: error, retryable: true },
      );
    case ERR.INVALID_OBJECT:
      return new HmsSyncError('SOURCE_STATE', `${where}: ${message} (a table or CDC function the account cannot see or that does not exist)`, { cause: error, retryable: true });
    case ERR.LSN_OUT_OF_RANGE:
      return new HmsSyncError('SOURCE_STATE', `${where}: ${message} (the LSN range asked of a CDC function is outside what its change table holds)`, {
        cause: error,
        retryable: true,
      });
    default:
      return new HmsSyncError('SOURCE_STATE', `${where}: ${message}${number !== undefined ? ` (error ${number})` : code ? ` (${code})` : ''}`, {
        cause: error,
        retryable: true,
      });
  }
}

export function isMssqlError(error: unknown, number: number): boolean {
  return errorNumber(error instanceof HmsSyncError ? error.cause : error) === number;
}
