// PostgreSQL 15 as a child process: initdb into a temp dir, postgres on a free 127.0.0.1 port. The
// settings are the ones log capture needs (wal_level=logical); the tests and the demo use it.
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { requirePostgresBinDir } from './binaries.ts';
import { pgQuery, pgReady, pgUrl, quoteIdent } from './pg-access.ts';
import { freePort, LOOPBACK } from './ports.ts';
import { serviceUser, type OsUser } from './os-user.ts';
import { descendantPids, isAlive } from './pids.ts';
import { launchOnFreePort, runToCompletion, ServerProcess, waitUntilReady } from './server-process.ts';
import { makeTempDir, removeTempDir } from './temp-dir.ts';
import type { PostgresOptions, PostgresServer, ServerProcessInfo } from './types.ts';
import { waitFor } from './wait.ts';

export type PostgresProcessServer = PostgresServer & ServerProcessInfo;

const BASE_SETTINGS: Record<string, string> = {
  wal_level: 'logical',
  max_replication_slots: '32',
  max_wal_senders: '32',
  listen_addresses: LOOPBACK,
  // Durability against power loss is not under test: kill() SIGKILLs the postmaster, not the
  // kernel, so whatever was written is still in the page cache when the server comes back.
  fsync: 'off',
  full_page_writes: 'off',
  // NOT off: with synchronous_commit=off a commit is acknowledged while its WAL is still in
  // shared memory, and kill() then loses the last ~600 ms of acknowledged transactions (seen:
  // a row inserted just before kill() was gone after start()). With fsync=off, "on" costs one
  // write() per commit and no fsync, so crash tests see exactly what was acknowledged.
  synchronous_commit: 'on',
  shared_buffers: '128MB',
  max_connections: '200',
};

const PG_HBA = `# written by src/servers/postgres.ts
local all all trust
local replication all trust
host all all 127.0.0.1/32 scram-sha-256
host replication all 127.0.0.1/32 scram-sha-256
`;

function confValue(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export async function startPostgresProcess(options: PostgresOptions = {}): Promise<PostgresProcessServer> {
  const binDir = requirePostgresBinDir();
  const user = serviceUser('postgres');
  const dir = makeTempDir('pg', user, options.purpose);
  const detached = options.detached === true;
  try {
    const dataDir = join(dir, 'data');
    const logFile = join(dir, 'postgres.log');
    const password = randomBytes(18).toString('hex');
    const pwFile = join(dir, 'superuser-password');
    writeFileSync(pwFile, password, { mode: 0o600 });
    if (user) chownSync(pwFile, user.uid, user.gid);
    await runToCompletion({
      name: 'initdb',
      command: join(binDir, 'initdb'),
      args: [
        '-D', dataDir,
        '-U', 'postgres',
        `--pwfile=${pwFile}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
        '--no-sync',
        '--no-instructions',
      ],
      cwd: dir,
      logFile: join(dir, 'initdb.log'),
      user,
      detached,
    });
    rmSync(pwFile);
    // Appending keeps the file's owner (postgres) and makes these the last, winning, entries.
    const settings = { ...BASE_SETTINGS, unix_socket_directories: dir, ...options.settings };
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      `\n# src/servers/postgres.ts\n${Object.entries(settings)
        .map(([key, value]) => `${key} = ${confValue(value)}`)
        .join('\n')}\n`,
    );
    writeFileSync(join(dataDir, 'pg_hba.conf'), PG_HBA);

    const server = new PostgresProcess(binDir, dir, dataDir, logFile, password, user, detached);
    await server.firstStart();
    return server;
  } catch (err) {
    removeTempDir(dir);
    throw err;
  }
}

class PostgresProcess implements PostgresProcessServer {
  readonly backend = 'process';
  readonly host = LOOPBACK;
  #port = 0;
  #postmaster: ServerProcess | undefined;
  #disposed = false;

  constructor(
    private readonly binDir: string,
    readonly dir: string,
    readonly dataDir: string,
    readonly logFile: string,
    readonly superuserPassword: string,
    private readonly user: OsUser | undefined,
    private readonly detached: boolean,
  ) {}

  get port(): number {
    return this.#port;
  }

  get pid(): number | undefined {
    return this.#postmaster?.running ? this.#postmaster.pid : undefined;
  }

  superuserUrl(db = 'postgres'): string {
    return pgUrl(this.host, this.#port, 'postgres', this.superuserPassword, db);
  }

  url(user: string, password: string, db = 'postgres'): string {
    return pgUrl(this.host, this.#port, user, password, db);
  }

  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[], db?: string): Promise<R[]> {
    return pgQuery<R>(this.superuserUrl(db), sql, params);
  }

  async createDatabase(name: string): Promise<string> {
    await this.query(`CREATE DATABASE ${quoteIdent(name)}`);
    return this.superuserUrl(name);
  }

  async firstStart(): Promise<void> {
    const { server, port } = await launchOnFreePort(await freePort(), true, (port) => this.#launch(port), freePort);
    this.#postmaster = server;
    this.#port = port;
  }

  async start(): Promise<void> {
    this.#assertNotDisposed();
    if (this.#postmaster?.running) return;
    this.#postmaster = await this.#launch(this.#port);
  }

  async stop(): Promise<void> {
    const postmaster = this.#postmaster;
    if (!postmaster?.running) return;
    const children = descendantPids(postmaster.pid);
    // SIGINT is "fast" shutdown: roll back, disconnect clients (walsenders included), checkpoint.
    await postmaster.terminate([
      ['SIGINT', 30_000],
      ['SIGQUIT', 10_000],
      ['SIGKILL', 10_000],
    ]);
    await this.#waitGone(children);
  }

  async kill(): Promise<void> {
    const postmaster = this.#postmaster;
    if (!postmaster?.running) return;
    // Backends notice the postmaster's death on their own and exit; until they have, they hold
    // the shared memory and a new postmaster would refuse to start.
    await postmaster.killHard(descendantPids(postmaster.pid));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    try {
      await this.stop();
    } finally {
      removeTempDir(this.dir);
    }
  }

  async #launch(port: number): Promise<ServerProcess> {
    const postmaster = ServerProcess.launch({
      name: `postgres on ${LOOPBACK}:${port}`,
      command: join(this.binDir, 'postgres'),
      args: ['-D', this.dataDir, '-c', `port=${port}`],
      cwd: this.dir,
      logFile: this.logFile,
      user: this.user,
      parentDeathSignal: 'SIGQUIT',
      detached: this.detached,
    });
    const url = pgUrl(this.host, port, 'postgres', this.superuserPassword);
    try {
      await waitUntilReady(
        postmaster,
        () => pgReady(url, this.dataDir),
        `PostgreSQL on ${LOOPBACK}:${port} to accept connections`,
      );
    } catch (err) {
      await postmaster.terminate([['SIGQUIT', 10_000], ['SIGKILL', 10_000]]);
      throw err;
    }
    return postmaster;
  }

  async #waitGone(pids: number[]): Promise<void> {
    await waitFor(() => pids.every((pid) => !isAlive(pid)), {
      what: `the PostgreSQL backends of ${this.dataDir} to exit`,
      timeoutMs: 30_000,
      intervalMs: 20,
    });
  }

  #assertNotDisposed(): void {
    if (this.#disposed) throw new Error(`PostgreSQL in ${this.dir} was disposed; start a new one`);
  }
}
