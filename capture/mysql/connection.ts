import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { HmsSyncError, errorMessage } from '../../src/errors.ts';

export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The database of the url path, if any (mapped tables name their own). */
  database?: string;
  /** TLS from the url query (`ssl-mode`, `ssl-ca`); absent: no TLS. */
  ssl?: { ca?: string; rejectUnauthorized: boolean; checkServerIdentity?: () => undefined };
}

const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;

/**
 * The url query's TLS settings, named as the mysql client names them: `ssl-mode` (DISABLED,
 * PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY) and `ssl-ca` (a PEM file). REQUIRED encrypts
 * without checking the certificate (as the mysql client does) unless `ssl-ca` is given;
 * PREFERRED is taken as no TLS, since mysql2 cannot fall back.
 */
export function mysqlSsl(u: URL): MysqlTarget['ssl'] {
  const mode = (u.searchParams.get('ssl-mode') ?? u.searchParams.get('sslmode') ?? '').toUpperCase().replace('-', '_');
  const caFile = u.searchParams.get('ssl-ca') ?? u.searchParams.get('sslrootcert') ?? undefined;
  if (mode === '' && caFile === undefined) return undefined;
  if (mode !== '' && !(SSL_MODES as readonly string[]).includes(mode)) {
    throw new HmsSyncError('CONFIG', `mysql url: ssl-mode "${mode}" is not one of ${SSL_MODES.join(', ')}`);
  }
  if (mode === 'DISABLED' || mode === 'PREFERRED') return undefined;
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (error) {
      throw new HmsSyncError('CONFIG', `mysql url: cannot read ssl-ca ${caFile} (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)})`);
    }
  }
  if ((mode === 'VERIFY_CA' || mode === 'VERIFY_IDENTITY') && ca === undefined) {
    throw new HmsSyncError('CONFIG', `mysql url: ssl-mode ${mode} needs ssl-ca (the CA file to check the server against)`);
  }
  const verify = ca !== undefined;
  return {
    ...(ca !== undefined && { ca }),
    rejectUnauthorized: verify,
    ...(verify && mode !== 'VERIFY_IDENTITY' && { checkServerIdentity: () => undefined }),
  };
}

/** mysql://user:pass@host:port/db or mariadb://… -> connection settings. */
export function parseMysqlUrl(url: string): MysqlTarget {
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  const ssl = mysqlSsl(u);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    ...(database ? { database } : {}),
    ...(ssl !== undefined && { ssl }),
  };
}

/** "mysql 127.0.0.1:3306/legacy": how messages name the server (never with the password). */
export function describeServer(url: string): string {
  try {
    const u = new URL(url);
    const scheme = u.protocol.replace(/:$/, '') === 'mariadb' ? 'mariadb' : 'mysql';
    return `${scheme} ${u.hostname}:${u.port || '3306'}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'mysql (unparseable url)';
  }
}

/**
 * A query connection. Values come back as raw bytes (typeCast false): the capture converts them
 * itself (snapshot.ts), so no DECIMAL becomes a float and no DATETIME a Date. The session runs
 * in UTC so TIMESTAMP values print in UTC.
 */
export async function connectMysql(url: string, where: string): Promise<mysql.Connection> {
  const target = parseMysqlUrl(url);
  let connection: mysql.Connection | undefined;
  try {
    connection = await mysql.createConnection({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      ...(target.ssl !== undefined && { ssl: target.ssl }),
      charset: 'utf8mb4',
      connectTimeout: 10_000,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      enableKeepAlive: true,
    });
    // An idle connection whose server goes away emits 'error'; the next query fails instead.
    connection.on('error', () => undefined);
    await connection.query("SET time_zone = '+00:00'");
    return connection;
  } catch (error) {
    await connection?.end().catch(() => undefined);
    throw classifyMysqlError(error, where);
  }
}

/** Error numbers of the server (mysqld_error.h) and client codes this module tells apart. */
const ER = {
  CON_COUNT: 1040,
  DBACCESS_DENIED: 1044,
  ACCESS_DENIED: 1045,
  BAD_DB: 1049,
  SERVER_SHUTDOWN: 1053,
  TABLEACCESS_DENIED: 1142,
  COLUMNACCESS_DENIED: 1143,
  NO_SUCH_TABLE: 1146,
  SPECIFIC_ACCESS_DENIED: 1227,
  MASTER_FATAL_ERROR_READING_BINLOG: 1236,
  TABLE_DEF_CHANGED: 1412,
  ACCESS_DENIED_NO_PASSWORD: 1698,
  CONNECTION_KILLED: 1927,
  LOST_CONNECTION: 2013,
  SERVER_GONE: 2006,
} as const;

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
]);

/** Failures to open a connection at all (as opposed to losing one). */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * A driver error (mysql2 or zongji's @vlasky/mysql: both carry `code` and `errno`) -> an
 * HmsSyncError whose message names the server and says what to do.
 */
export function classifyMysqlError(error: unknown, where: string): HmsSyncError {
  if (error instanceof HmsSyncError) return error;
  const e = error as { code?: string; errno?: number; sqlMessage?: string; fatal?: boolean };
  const message = e.sqlMessage ?? errorMessage(error);
  const errno = typeof e.errno === 'number' ? e.errno : undefined;
  if ((e.code && UNREACHABLE_CODES.has(e.code)) || errno === ER.CON_COUNT || errno === ER.SERVER_SHUTDOWN || errno === ER.CONNECTION_KILLED || errno === ER.LOST_CONNECTION || errno === ER.SERVER_GONE) {
    const hint = e.code && CONNECT_CODES.has(e.code) ? '; check that the server runs and that the host and port of the source url reach it' : '';
    return new HmsSyncError('SOURCE_UNREACHABLE', `${where}: ${message}${e.code && !message.includes(e.code) ? ` (${e.code})` : ''}${hint}`, {
      cause: error,
      retryable: true,
    });
  }
  switch (errno) {
    case ER.ACCESS_DENIED:
    case ER.ACCESS_DENIED_NO_PASSWORD:
      return new HmsSyncError('SOURCE_AUTH', `${where}: authentication failed (${message}); check the user and password in the source url`, {
        cause: error,
        retryable: true,
      });
    case ER.DBACCESS_DENIED:
    case ER.TABLEACCESS_DENIED:
    case ER.COLUMNACCESS_DENIED:
      return new HmsSyncError('SOURCE_PRIVILEGE', `${where}: ${message}; a DBA can run: GRANT SELECT ON <database>.* TO <bridge user>;`, {
        cause: error,
        retryable: true,
      });
    case ER.SPECIFIC_ACCESS_DENIED:
      return new HmsSyncError(
        'SOURCE_PRIVILEGE',
        `${where}: ${message}; binlog capture needs: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO <bridge user>;`,
        { cause: error, retryable: true },
      );
    case ER.BAD_DB:
    case ER.NO_SUCH_TABLE:
      return new HmsSyncError('SOURCE_STATE', `${where}: ${message}`, { cause: error, retryable: true });
    case ER.MASTER_FATAL_ERROR_READING_BINLOG:
      return new HmsSyncError('SOURCE_STATE', `${where}: the server cannot send the binlog: ${message}`, { cause: error, retryable: true });
    default:
      // mysql2's "Can't add new command when connection is in closed state": the server went first.
      if (/Connection lost|server closed the connection|connect ETIMEDOUT|socket hang up|connection is in closed state/i.test(message)) {
        return new HmsSyncError('SOURCE_UNREACHABLE', `${where}: ${message}`, { cause: error, retryable: true });
      }
      return new HmsSyncError('SOURCE_STATE', `${where}: ${message}${errno ? ` (error ${errno})` : e.code ? ` (${e.code})` : ''}`, {
        cause: error,
        retryable: true,
      });
  }
}

export function isErrno(error: unknown, errno: number): boolean {
  const e = (error instanceof HmsSyncError ? error.cause : error) as { errno?: number } | undefined;
  return e?.errno === errno;
}

export const TABLE_DEF_CHANGED = ER.TABLE_DEF_CHANGED;

export function quoteIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

export function quoteTable(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** A string literal for statements that take no bind parameters (SET @var = '…'). */
export function quoteLiteral(value: string): string {
  return "'" + value.replace(/\\/g, '\\\\').replace(/'/g, "''") + "'";
}

/** Runs a query and returns its rows as objects of text (for catalog and status queries). */
export async function queryRows<T = Record<string, string | null>>(connection: mysql.Connection, sql: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await connection.query({ sql, values: params, typeCast: textCast });
  return rows as T[];
}

/** typeCast for catalog queries: every value as text (null stays null). */
function textCast(field: { string(encoding?: string): string | null }): string | null {
  return field.string('utf8');
}
