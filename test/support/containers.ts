// The same servers as Docker containers through testcontainers, for machines that have a Docker
// engine but not the Debian packages (or HMS_SYNC_TESTCONTAINERS=1). testcontainers is imported
// only here and only on demand, so the process path never loads it. stop/start/kill use the
// docker CLI on the container testcontainers made: its API has no start after a stop.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { StartedTestContainer } from 'testcontainers';
import type pg from 'pg';
import { mysqlQuery, mysqlReady, mysqlUrl } from './mariadb-access.ts';
import { pgQuery, pgReady, pgUrl, quoteIdent } from './pg-access.ts';
import { freePort } from './ports.ts';
import type {
  MariadbOptions,
  MariadbServer,
  NatsOptions,
  NatsServer,
  PostgresOptions,
  PostgresServer,
  ServerLifecycle,
} from './server-types.ts';
import { waitFor } from './wait.ts';
import { natsReady } from './nats.ts';

const run = promisify(execFile);

let dockerAnswer: Promise<boolean> | undefined;

/** Whether a Docker engine answers (`docker info` exits 0 within 3 s). Cached for the process. */
export function dockerAvailable(): Promise<boolean> {
  dockerAnswer ??= run('docker', ['info'], { timeout: 3_000 }).then(
    () => true,
    () => false,
  );
  return dockerAnswer;
}

async function testcontainers(): Promise<typeof import('testcontainers')> {
  try {
    return await import('testcontainers');
  } catch (err) {
    throw new Error('the container backend needs the testcontainers package (npm install --save-dev testcontainers@^11)', {
      cause: err,
    });
  }
}

/**
 * stop/start/kill of a container, with the host port pinned at creation so it survives a
 * `docker start`. Docker publishes that port on all interfaces; the process backend binds
 * 127.0.0.1 only.
 */
class ContainerLifecycle implements Omit<ServerLifecycle, typeof Symbol.asyncDispose> {
  readonly backend = 'container';
  constructor(
    private readonly container: StartedTestContainer,
    private readonly ready: () => Promise<boolean>,
    private readonly what: string,
  ) {}

  async stop(): Promise<void> {
    await run('docker', ['stop', '--time', '30', this.container.getId()]);
  }

  async start(): Promise<void> {
    await run('docker', ['start', this.container.getId()]);
    await waitFor(this.ready, { what: this.what, timeoutMs: 120_000, intervalMs: 200 });
  }

  async kill(): Promise<void> {
    await run('docker', ['kill', '--signal', 'KILL', this.container.getId()]);
    await waitFor(
      async () => (await run('docker', ['inspect', '--format', '{{.State.Running}}', this.container.getId()])).stdout.trim() === 'false',
      { what: `container ${this.container.getId()} to stop after SIGKILL`, timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  async dispose(): Promise<void> {
    await this.container.stop({ remove: true, removeVolumes: true });
  }
}

export async function startPostgresContainer(options: PostgresOptions = {}): Promise<PostgresServer> {
  const { GenericContainer, Wait } = await testcontainers();
  const password = randomBytes(18).toString('hex');
  const hostPort = await freePort();
  const settings = { wal_level: 'logical', max_replication_slots: '32', max_wal_senders: '32', ...options.settings };
  const container = await new GenericContainer('postgres:15')
    .withEnvironment({ POSTGRES_PASSWORD: password })
    .withCommand(Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]))
    .withExposedPorts({ container: 5432, host: hostPort })
    // The entrypoint starts a temporary server for init scripts first; the second message is the real one.
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const host = container.getHost();
  const superuserUrl = (db = 'postgres') => pgUrl(host, hostPort, 'postgres', password, db);
  const lifecycle = new ContainerLifecycle(container, () => pgReady(superuserUrl()), `PostgreSQL container on ${host}:${hostPort}`);
  const server: PostgresServer = {
    backend: 'container',
    host,
    port: hostPort,
    dataDir: '/var/lib/postgresql/data',
    superuserPassword: password,
    superuserUrl,
    url: (user, pw, db = 'postgres') => pgUrl(host, hostPort, user, pw, db),
    query: <R extends pg.QueryResultRow>(sql: string, params?: unknown[], db?: string) => pgQuery<R>(superuserUrl(db), sql, params),
    createDatabase: async (name) => {
      await pgQuery(superuserUrl(), `CREATE DATABASE ${quoteIdent(name)}`);
      return superuserUrl(name);
    },
    stop: () => lifecycle.stop(),
    start: () => lifecycle.start(),
    kill: () => lifecycle.kill(),
    [Symbol.asyncDispose]: () => lifecycle.dispose(),
  };
  await waitFor(() => pgReady(superuserUrl()), { what: `PostgreSQL container on ${host}:${hostPort}`, timeoutMs: 60_000 });
  return server;
}

export async function startNatsContainer(options: NatsOptions = {}): Promise<NatsServer> {
  if (options.storeDir) {
    throw new Error('startNats({ storeDir }) is not supported by the container backend (the store lives inside the container)');
  }
  const { GenericContainer, Wait } = await testcontainers();
  const hostPort = options.port ?? (await freePort());
  const storeDir = '/data/jetstream';
  const container = await new GenericContainer('nats:2.9')
    .withCommand(['-js', '-sd', storeDir, '-n', 'hms-sync-test'])
    .withExposedPorts({ container: 4222, host: hostPort })
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .start();
  const host = container.getHost();
  const lifecycle = new ContainerLifecycle(container, () => natsReady(hostPort, 2_000, host), `nats container on ${host}:${hostPort}`);
  return {
    backend: 'container',
    url: `nats://${host}:${hostPort}`,
    port: hostPort,
    storeDir,
    stop: () => lifecycle.stop(),
    start: () => lifecycle.start(),
    kill: () => lifecycle.kill(),
    [Symbol.asyncDispose]: () => lifecycle.dispose(),
  };
}

/** MySQL 8 stands in for MariaDB: the binlog settings the tests check are the same. */
export async function startMysqlContainer(options: MariadbOptions = {}): Promise<MariadbServer> {
  const { GenericContainer, Wait } = await testcontainers();
  const password = randomBytes(18).toString('hex');
  const hostPort = await freePort();
  const settings = Object.entries(options.settings ?? {}).map(([key, value]) => `--${key}=${value}`);
  const container = await new GenericContainer('mysql:8')
    .withEnvironment({ MYSQL_ROOT_PASSWORD: password })
    .withCommand(['--log-bin=binlog', '--binlog-format=ROW', '--binlog-row-image=FULL', '--server-id=1', ...settings])
    .withExposedPorts({ container: 3306, host: hostPort })
    // The init phase runs a server with port 0; the real one announces port 3306.
    .withWaitStrategy(Wait.forLogMessage(/ready for connections.*port: 3306/))
    .withStartupTimeout(180_000)
    .start();
  const host = container.getHost();
  const target = (database?: string) => ({ host, port: hostPort, user: 'root', password, database });
  const lifecycle = new ContainerLifecycle(container, () => mysqlReady(target()), `MySQL container on ${host}:${hostPort}`);
  return {
    backend: 'container',
    host,
    port: hostPort,
    rootPassword: password,
    rootUrl: (db) => mysqlUrl(host, hostPort, 'root', password, db),
    url: (user, pw, db) => mysqlUrl(host, hostPort, user, pw, db),
    query: <T>(sql: string, params?: unknown[], db?: string) => mysqlQuery<T>(target(db), sql, params),
    stop: () => lifecycle.stop(),
    start: () => lifecycle.start(),
    kill: () => lifecycle.kill(),
    [Symbol.asyncDispose]: () => lifecycle.dispose(),
  };
}

/** Oracle Database Free (gvenzl/oracle-free) in a container: SYSTEM's password, statements as SYSTEM. */
export interface OracleServer extends AsyncDisposable {
  readonly backend: 'container';
  readonly host: string;
  readonly port: number;
  readonly systemPassword: string;
  /** oracle://user:pw@host:port/<service> (default FREEPDB1, the pluggable database). */
  url(user: string, password: string, service?: string): string;
  /** Runs statements as SYSTEM on `service` (FREE is the CDB root); returns the last one's rows. */
  execute<T = unknown[]>(statements: string | string[], binds?: unknown[], service?: string): Promise<T[]>;
  stop(): Promise<void>;
  start(): Promise<void>;
  kill(): Promise<void>;
}

export async function startOracleContainer(): Promise<OracleServer> {
  const { GenericContainer, Wait } = await testcontainers();
  const { default: oracledb } = await import('oracledb');
  const password = `Pw${randomBytes(9).toString('hex')}`;
  const hostPort = await freePort();
  const container = await new GenericContainer('gvenzl/oracle-free:23-slim-faststart')
    .withEnvironment({ ORACLE_PASSWORD: password })
    .withExposedPorts({ container: 1521, host: hostPort })
    .withWaitStrategy(Wait.forLogMessage(/DATABASE IS READY TO USE!/))
    .withStartupTimeout(300_000)
    .start();
  const host = container.getHost();
  const execute = async <T>(statements: string | string[], binds: unknown[] = [], service = 'FREEPDB1'): Promise<T[]> => {
    const connection = await oracledb.getConnection({ user: 'SYSTEM', password, connectString: `${host}:${hostPort}/${service}` });
    try {
      let rows: T[] = [];
      const list = Array.isArray(statements) ? statements : [statements];
      for (const [i, statement] of list.entries()) {
        const result = await connection.execute<T>(statement, i === list.length - 1 ? binds : [], { autoCommit: true });
        rows = result.rows ?? [];
      }
      return rows;
    } finally {
      await connection.close();
    }
  };
  const ready = () => execute('SELECT 1 FROM DUAL').then(() => true, () => false);
  const lifecycle = new ContainerLifecycle(container, ready, `Oracle container on ${host}:${hostPort}`);
  await waitFor(ready, { what: `Oracle container on ${host}:${hostPort}`, timeoutMs: 120_000, intervalMs: 500 });
  return {
    backend: 'container',
    host,
    port: hostPort,
    systemPassword: password,
    url: (user, pw, service = 'FREEPDB1') => `oracle://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@${host}:${hostPort}/${service}`,
    execute,
    stop: () => lifecycle.stop(),
    start: () => lifecycle.start(),
    kill: () => lifecycle.kill(),
    [Symbol.asyncDispose]: () => lifecycle.dispose(),
  };
}

/** SQL Server 2022 Developer (mcr.microsoft.com/mssql/server) with SQL Server Agent, which runs the CDC capture job. */
export interface MssqlServer extends AsyncDisposable {
  readonly backend: 'container';
  readonly host: string;
  readonly port: number;
  readonly saPassword: string;
  /** mssql://user:pw@host:port/<db>?trustServerCertificate=true */
  url(user: string, password: string, database: string): string;
  /** Runs a batch as sa in `database` (default master); returns its first recordset. */
  query<T = Record<string, unknown>>(batch: string, database?: string): Promise<T[]>;
  stop(): Promise<void>;
  start(): Promise<void>;
  kill(): Promise<void>;
}

export async function startMssqlContainer(): Promise<MssqlServer> {
  const { GenericContainer, Wait } = await testcontainers();
  const { default: sql } = await import('mssql');
  // The server's password policy wants upper and lower case letters and digits.
  const password = `Pw1-${randomBytes(9).toString('hex')}`;
  const hostPort = await freePort();
  const container = await new GenericContainer('mcr.microsoft.com/mssql/server:2022-latest')
    .withEnvironment({ ACCEPT_EULA: 'Y', MSSQL_SA_PASSWORD: password, MSSQL_PID: 'Developer', MSSQL_AGENT_ENABLED: 'true' })
    .withExposedPorts({ container: 1433, host: hostPort })
    .withWaitStrategy(Wait.forLogMessage(/SQL Server is now ready for client connections/))
    .withStartupTimeout(300_000)
    .start();
  const host = container.getHost();
  const query = async <T>(batch: string, database = 'master'): Promise<T[]> => {
    const pool = new sql.ConnectionPool({
      server: host,
      port: hostPort,
      user: 'sa',
      password,
      database,
      options: { encrypt: true, trustServerCertificate: true },
      pool: { max: 1 },
    });
    try {
      await pool.connect();
      const result = await pool.request().batch<T>(batch);
      return result.recordset ?? [];
    } finally {
      await pool.close();
    }
  };
  const ready = () => query('SELECT 1 AS x').then(() => true, () => false);
  const lifecycle = new ContainerLifecycle(container, ready, `SQL Server container on ${host}:${hostPort}`);
  await waitFor(ready, { what: `SQL Server container on ${host}:${hostPort}`, timeoutMs: 120_000, intervalMs: 500 });
  return {
    backend: 'container',
    host,
    port: hostPort,
    saPassword: password,
    url: (user, pw, database) => `mssql://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@${host}:${hostPort}/${database}?trustServerCertificate=true`,
    query,
    stop: () => lifecycle.stop(),
    start: () => lifecycle.start(),
    kill: () => lifecycle.kill(),
    [Symbol.asyncDispose]: () => lifecycle.dispose(),
  };
}
