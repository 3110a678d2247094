/**
 * Oracle sessions through node-oracledb in thin mode (pure JavaScript: no Instant Client), and
 * the driver's errors as HmsSyncErrors that name the server and say what to do.
 *
 * Every session is set up the same way, so the text a query produces never depends on the
 * account's or the machine's NLS defaults: ISO date and timestamp formats, '.' as the decimal
 * separator, UTC as the session time zone, binary sort and comparison (ORDER BY over VARCHAR2
 * is then byte order of the database character set).
 */
import oracledb from 'oracledb';
import { HmsSyncError, errorMessage } from '../../src/errors.ts';

export interface OracleTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The service name of the url path (e.g. FREEPDB1). */
  service: string;
  /** host:port/service, the Easy Connect string. */
  connectString: string;
}

/** oracle://user:pass@host:1521/FREEPDB1 -> connection settings. */
export function parseOracleUrl(url: string): OracleTarget {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port ? Number(u.port) : 1521;
  const service = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (service === '') {
    throw new HmsSyncError('CONFIG', `oracle url ${u.protocol}//${u.host}: the path must name the service, e.g. oracle://user:pass@host:1521/FREEPDB1`);
  }
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    service,
    connectString: `${hostPart}:${port}/${service}`,
  };
}

/** "oracle 127.0.0.1:1521/FREEPDB1": how messages name the server (never with the password). */
export function describeServer(url: string): string {
  try {
    const u = new URL(url);
    return `oracle ${u.hostname}:${u.port || '1521'}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'oracle (unparseable url)';
  }
}

/** The statements that make every session's text output independent of NLS defaults. */
export const SESSION_SETUP = [
  `ALTER SESSION SET NLS_DATE_FORMAT = 'YYYY-MM-DD HH24:MI:SS' NLS_TIMESTAMP_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF9'` +
    ` NLS_TIMESTAMP_TZ_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF9TZH:TZM' NLS_NUMERIC_CHARACTERS = '.,'` +
    ` NLS_SORT = BINARY NLS_COMP = BINARY TIME_ZONE = '+00:00'`,
] as const;

/**
 * A session. NUMBER is fetched as the driver's exact decimal text (thin mode decodes NUMBER
 * to text first; only the default conversion to a JS number loses digits), LOBs as whole
 * strings or buffers. DATE and TIMESTAMP are never fetched as JS Dates (the driver builds them
 * in the process's local time zone and cuts them to milliseconds): queries select them
 * through TO_CHAR (values.ts).
 */
export async function connectOracle(url: string, where: string, options: { callTimeoutMs?: number } = {}): Promise<oracledb.Connection> {
  const target = parseOracleUrl(url);
  let connection: oracledb.Connection | undefined;
  try {
    connection = await oracledb.getConnection({
      user: target.user,
      password: target.password,
      connectString: target.connectString,
      // Seconds. A host that drops packets fails the attempt instead of hanging it.
      connectTimeout: 10,
      transportConnectTimeout: 10,
      // Minutes: keep-alive probes so a dead server is noticed on an idle session.
      expireTime: 1,
    });
    if (options.callTimeoutMs !== undefined) connection.callTimeout = options.callTimeoutMs;
    for (const statement of SESSION_SETUP) await connection.execute(statement);
    return connection;
  } catch (error) {
    await connection?.close().catch(() => undefined);
    throw classifyOracleError(error, where);
  }
}

/** fetchTypeHandler for every query: exact NUMBER text, LOBs fetched whole. */
export function fetchTypeHandler(metadata: oracledb.Metadata): oracledb.FetchTypeResult | undefined {
  const type = metadata.dbType;
  if (type === oracledb.DB_TYPE_NUMBER || type === oracledb.DB_TYPE_CLOB || type === oracledb.DB_TYPE_NCLOB) return { type: oracledb.STRING };
  if (type === oracledb.DB_TYPE_BLOB) return { type: oracledb.BUFFER };
  return undefined;
}

/** Runs a query and returns its rows as arrays, values as fetchTypeHandler reads them. */
export async function queryArrays<T extends unknown[] = unknown[]>(connection: oracledb.Connection, sql: string, binds: unknown[] = []): Promise<T[]> {
  const result = await connection.execute<T>(sql, binds, { outFormat: oracledb.OUT_FORMAT_ARRAY, fetchTypeHandler });
  return result.rows ?? [];
}

/** Runs a query and returns its rows as objects keyed by the (upper-case unless quoted) column aliases. */
export async function queryObjects<T = Record<string, unknown>>(connection: oracledb.Connection, sql: string, binds: unknown[] = []): Promise<T[]> {
  const result = await connection.execute<T>(sql, binds, { outFormat: oracledb.OUT_FORMAT_OBJECT, fetchTypeHandler });
  return result.rows ?? [];
}

export { quoteIdent, quoteLiteral, quoteTable } from './quote.ts';

/** ORA- numbers this module tells apart. */
const ORA = {
  INVALID_LOGON: 1017,
  NO_CREATE_SESSION: 1045,
  ACCOUNT_LOCKED: 28000,
  PASSWORD_EXPIRED: 28001,
  INSUFFICIENT_PRIVILEGES: 1031,
  NO_SUCH_TABLE: 942,
  SNAPSHOT_TOO_OLD: 1555,
  INVALID_SCN: 8181,
  NO_SNAPSHOT_FOR_SCN: 8180,
  TABLE_DEFINITION_CHANGED: 1466,
  MISSING_LOGFILE: 1291,
  LOGMINER_NOT_STARTED: 1306,
  NOT_CONNECTED: 3114,
  END_OF_FILE: 3113,
  NO_LISTENER: 12541,
  SERVICE_UNKNOWN: 12514,
  TNS_TIMEOUT: 12170,
  TNS_CONNECT_TIMEOUT: 12535,
  SHUTDOWN_IN_PROGRESS: 1089,
  NOT_AVAILABLE: 1034,
  CANCELLED: 1013,
} as const;

/** node-oracledb's own connection failures (NJS-500 closed, 501 lost contact, 503 no connection, 510 timed out, 511 refused, 521 EOF). */
const NJS_UNREACHABLE = new Set(['NJS-500', 'NJS-501', 'NJS-503', 'NJS-510', 'NJS-511', 'NJS-513', 'NJS-521']);
const NODE_UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);

/** "ORA-01017: invalid credential or not authorized; logon denied\nHelp: …" -> its first line. */
function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

function oraNumber(e: oracledb.OracleError): number | undefined {
  if (typeof e.errorNum === 'number' && e.errorNum > 0) return e.errorNum;
  const m = /^ORA-(\d{5})/.exec(e.code ?? '') ?? /\bORA-(\d{5})\b/.exec(e.message ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * A driver error -> one HmsSyncError whose message is a single line naming the server, what
 * went wrong and what to do. Unreachable servers are retried soon, a bad password or a missing
 * grant later (src/pipeline/job.ts), state problems in between.
 */
export function classifyOracleError(error: unknown, where: string): HmsSyncError {
  if (error instanceof HmsSyncError) return error;
  const e = (error ?? {}) as oracledb.OracleError & { cause?: { code?: string } };
  const message = firstLine(errorMessage(error));
  const code = e.code ?? '';
  const ora = oraNumber(e);
  const nodeCode = NODE_UNREACHABLE.has(code) ? code : (e.cause?.code ?? /\b(E[A-Z]{4,})\b/.exec(errorMessage(error))?.[1]);
  if (NJS_UNREACHABLE.has(code) || NODE_UNREACHABLE.has(code) || ora === ORA.NO_LISTENER || ora === ORA.TNS_TIMEOUT || ora === ORA.TNS_CONNECT_TIMEOUT || ora === ORA.END_OF_FILE || ora === ORA.NOT_CONNECTED) {
    const detail = nodeCode && !message.includes(nodeCode) ? ` (${nodeCode})` : '';
    return new HmsSyncError(
      'SOURCE_UNREACHABLE',
      `${where}: cannot reach the server: ${message}${detail}; check that Oracle and its listener run and that the host and port of the source url reach them`,
      { cause: error, retryable: true },
    );
  }
  switch (ora) {
    case ORA.INVALID_LOGON:
      return new HmsSyncError('SOURCE_AUTH', `${where}: authentication failed (${message}); check the user and password in the source url`, {
        cause: error,
        retryable: true,
      });
    case ORA.ACCOUNT_LOCKED:
    case ORA.PASSWORD_EXPIRED:
      return new HmsSyncError('SOURCE_AUTH', `${where}: ${message}; a DBA can run: ALTER USER <bridge user> ACCOUNT UNLOCK (or set a new password)`, {
        cause: error,
        retryable: true,
      });
    case ORA.NO_CREATE_SESSION:
      return new HmsSyncError('SOURCE_PRIVILEGE', `${where}: ${message}; a DBA can run: GRANT CREATE SESSION TO <bridge user>;`, { cause: error, retryable: true });
    case ORA.INSUFFICIENT_PRIVILEGES:
      return new HmsSyncError(
        'SOURCE_PRIVILEGE',
        `${where}: ${message}; the account lacks a grant (hms-sync doctor prints the GRANT statements: SELECT and FLASHBACK on the mapped tables, LOGMINING, EXECUTE ON DBMS_LOGMNR, SELECT ON V_$DATABASE / V_$LOG / V_$LOGFILE / V_$ARCHIVED_LOG / V_$LOGMNR_CONTENTS / V_$TRANSACTION)`,
        { cause: error, retryable: true },
      );
    case ORA.NO_SUCH_TABLE:
      return new HmsSyncError(
        'SOURCE_PRIVILEGE',
        `${where}: ${message}; the table or view does not exist or the account may not read it (a DBA can run: GRANT SELECT ON <owner>.<table> TO <bridge user>;)`,
        { cause: error, retryable: true },
      );
    case ORA.SERVICE_UNKNOWN:
      return new HmsSyncError('SOURCE_UNREACHABLE', `${where}: ${message}; check the service name in the path of the source url (e.g. /FREEPDB1)`, {
        cause: error,
        retryable: true,
      });
    case ORA.SHUTDOWN_IN_PROGRESS:
    case ORA.NOT_AVAILABLE:
      return new HmsSyncError('SOURCE_UNREACHABLE', `${where}: the database is not open (${message})`, { cause: error, retryable: true });
    case ORA.SNAPSHOT_TOO_OLD:
    case ORA.INVALID_SCN:
    case ORA.NO_SNAPSHOT_FOR_SCN:
    case ORA.TABLE_DEFINITION_CHANGED:
      return new HmsSyncError(
        'SOURCE_STATE',
        `${where}: the snapshot's SCN can no longer be read (${message}); raise UNDO_RETENTION, or delete the source's key from the offsets bucket to take a new snapshot`,
        { cause: error, retryable: true },
      );
    default:
      return new HmsSyncError('SOURCE_STATE', `${where}: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`, { cause: error, retryable: true });
  }
}

export function isOra(error: unknown, ora: number): boolean {
  const e = (error instanceof HmsSyncError ? error.cause : error) as oracledb.OracleError | undefined;
  return e !== undefined && e !== null && oraNumber(e) === ora;
}

export const ORA_MISSING_LOGFILE = ORA.MISSING_LOGFILE;
