// Short-lived superuser access to a PostgreSQL the launcher started (the demo's, the tests'); the
// test container backend and test/support/context.ts use it too.
import pg from 'pg';

export function pgUrl(host: string, port: number, user: string, password: string, db = 'postgres'): string {
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(db)}`;
}

export { quoteIdent } from '../util/sql-quote.ts';

export async function pgQuery<R extends pg.QueryResultRow>(url: string, sql: string, params?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * True once the server accepts a connection and answers (it throws while the server is starting
 * or recovering). With `dataDir`, also that the answer comes from that cluster and not from
 * another server that got the port first.
 */
export async function pgReady(url: string, dataDir?: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  // A refused connection can also surface as an 'error' event; the promise below reports it.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ data_directory: string }>("SELECT current_setting('data_directory') AS data_directory");
    if (dataDir !== undefined && rows[0]?.data_directory !== dataDir) {
      throw new Error(`the server on this port serves ${rows[0]?.data_directory}, not ${dataDir}`);
    }
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}
