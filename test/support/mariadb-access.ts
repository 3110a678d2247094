// Short-lived root access to a test MariaDB/MySQL through mysql2, shared by both backends.
import mysql from 'mysql2/promise';

export function mysqlUrl(host: string, port: number, user: string, password: string, db?: string): string {
  return `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${db ? encodeURIComponent(db) : ''}`;
}

export type MysqlTarget =
  | { host: string; port: number; user: string; password: string; database?: string }
  | { socketPath: string; user: string; password: string; database?: string };

export async function withMysql<T>(target: MysqlTarget, use: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ ...target, connectTimeout: 10_000 });
  try {
    return await use(connection);
  } finally {
    await connection.end().catch(() => undefined);
  }
}

export function mysqlQuery<T>(target: MysqlTarget, sql: string, params?: unknown[]): Promise<T> {
  return withMysql(target, async (connection) => (await connection.query(sql, params))[0] as T);
}

export async function mysqlReady(target: MysqlTarget): Promise<boolean> {
  const connection = await mysql.createConnection({ ...target, connectTimeout: 2_000 });
  try {
    await connection.query('SELECT 1');
    return true;
  } finally {
    await connection.end().catch(() => undefined);
  }
}
