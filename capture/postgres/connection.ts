import pg from 'pg';
import { HmsSyncError, errorMessage } from '../../src/errors.ts';

/**
 * Every session of ours prints dates and numbers the same way, whatever the server's or the
 * machine's defaults: ISO dates, UTC for timestamptz, shortest exact float text.
 */
const SESSION_OPTIONS = '-c DateStyle=ISO,YMD -c TimeZone=UTC -c extra_float_digits=3 -c IntervalStyle=postgres';

const rawText = (value: string): string => value;

export function describeServer(url: string): string {
  try {
    const u = new URL(url);
    return `postgres ${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'postgres (unparseable url)';
  }
}

/**
 * `sslmode` in the url means what it means to libpq (and to a DBA): `require` encrypts without
 * checking the certificate unless `sslrootcert` is given, `verify-ca` checks the CA,
 * `verify-full` the CA and the host name. Plain node-postgres would check everything for any
 * sslmode; its `uselibpqcompat` switch gives libpq's meaning, for the query connections and the
 * replication connection alike (both read this connection string).
 */
export function libpqCompatibleUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.searchParams.has('sslmode') && !u.searchParams.has('uselibpqcompat')) {
      u.searchParams.set('uselibpqcompat', 'true');
      return u.toString();
    }
  } catch {
    // not a URL: pg reports it
  }
  return url;
}

export function clientConfig(url: string, extra: Partial<pg.ClientConfig> = {}): pg.ClientConfig {
  return {
    connectionString: libpqCompatibleUrl(url),
    options: SESSION_OPTIONS,
    application_name: 'hms-sync',
    connectionTimeoutMillis: 10_000,
    // Values stay in the server's text form; the capture converts them (pg-types.ts).
    types: { getTypeParser: (() => rawText) as unknown as pg.CustomTypesConfig['getTypeParser'] },
    ...extra,
  };
}

export async function connectClient(url: string, extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  let client: pg.Client;
  try {
    client = new pg.Client(clientConfig(url, extra));
  } catch (error) {
    // The connection string is parsed here: an unreadable sslrootcert, verify-ca without one.
    throw new HmsSyncError('SOURCE_STATE', `${describeServer(url)}: ${tlsSettingProblem(error)}`, { cause: error, retryable: false });
  }
  // An idle client whose server goes away emits 'error'; without a listener that crashes the
  // process. The next query on it fails and the attempt restarts.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw classifyPgError(error, describeServer(url));
  }
  return client;
}

function tlsSettingProblem(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { path?: string };
  if (e.code === 'ENOENT' || e.code === 'EACCES') return `cannot read ${e.path ?? 'a TLS file'} named in the url (sslrootcert / sslcert / sslkey): ${e.code}`;
  if (/sslmode=verify-ca requires/i.test(errorMessage(error))) return 'sslmode=verify-ca needs sslrootcert (the CA file to check the server against)';
  return errorMessage(error);
}

/** Turns a driver error into an HmsSyncError that names the server and says if a retry helps. */
export function classifyPgError(error: unknown, where: string): HmsSyncError {
  if (error instanceof HmsSyncError) return error;
  const e = error as { code?: string; message?: string };
  const message = errorMessage(error);
  switch (e.code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'ETIMEDOUT':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case '57P01': // admin_shutdown
    case '57P02':
    case '57P03': // cannot_connect_now (starting up)
    case '08006':
    case '08001':
    case '08003':
      return new HmsSyncError('SOURCE_UNREACHABLE', `${where}: ${message}`, { cause: error, retryable: true });
    case '28P01':
    case '28000':
      return new HmsSyncError('SOURCE_AUTH', `${where}: authentication failed (${message}); check the user and password in the source url`, {
        cause: error,
        retryable: true,
      });
    case '3D000':
      return new HmsSyncError('SOURCE_STATE', `${where}: ${message}`, { cause: error, retryable: true });
    case '42501':
      return new HmsSyncError('SOURCE_PRIVILEGE', `${where}: ${message}`, { cause: error, retryable: true });
    case '55006':
      return new HmsSyncError('SOURCE_STATE', `${where}: ${message} (another process still holds it)`, { cause: error, retryable: true });
    default:
      if (/self[- ]signed|unable to verify|certificate|does not support SSL|ERR_TLS|Hostname\/IP does not match/i.test(message)) {
        return new HmsSyncError('SOURCE_AUTH', `${where}: TLS: ${message}; check sslmode and sslrootcert in the source url`, {
          cause: error,
          retryable: true,
        });
      }
      if (/Connection terminated|connection timeout|timeout expired/i.test(message)) {
        return new HmsSyncError('SOURCE_UNREACHABLE', `${where}: ${message}`, { cause: error, retryable: true });
      }
      return new HmsSyncError('SOURCE_STATE', `${where}: ${message}${e.code ? ` (SQLSTATE ${e.code})` : ''}`, {
        cause: error,
        retryable: true,
      });
  }
}

export { quoteIdent, quoteLiteral, quoteTable } from '../../src/util/sql-quote.ts';
