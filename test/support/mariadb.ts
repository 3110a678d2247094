// MariaDB 10.11 as a child process: mariadb-install-db into a temp dir, mariadbd on a free
// 127.0.0.1 port with a row-based binlog (what binlog CDC needs).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { requireMariadb } from './binaries.ts';
import { mysqlQuery, mysqlReady, mysqlUrl, withMysql, type MysqlTarget } from './mariadb-access.ts';
import { freePort, LOOPBACK } from './ports.ts';
import {
  launchOnFreePort,
  makeTempDir,
  removeTempDir,
  runToCompletion,
  ServerProcess,
  serviceUser,
  waitUntilReady,
  type OsUser,
} from './process.ts';
import type { MariadbOptions, MariadbServer } from './server-types.ts';

export async function startMariadbProcess(options: MariadbOptions = {}): Promise<MariadbServer> {
  const binaries = requireMariadb();
  // mariadbd refuses to run as root without --user=root; run it as the packaged mysql user instead.
  const user = serviceUser('mysql');
  const dir = makeTempDir('mariadb', user);
  try {
    const dataDir = join(dir, 'data');
    await runToCompletion({
      name: 'mariadb-install-db',
      command: binaries.installDb,
      args: [
        // --no-defaults must come first, or /etc/mysql/my.cnf (datadir, socket, bind) leaks in.
        '--no-defaults',
        `--datadir=${dataDir}`,
        // root@localhost with a (still empty) password instead of unix_socket-only login.
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
      ],
      cwd: dir,
      logFile: join(dir, 'install-db.log'),
      user,
    });
    const server = new MariadbProcess(binaries.mariadbd, dir, dataDir, randomBytes(18).toString('hex'), user, options);
    await server.firstStart();
    return server;
  } catch (err) {
    removeTempDir(dir);
    throw err;
  }
}

class MariadbProcess implements MariadbServer {
  readonly backend = 'process';
  readonly host = LOOPBACK;
  readonly logFile: string;
  readonly socketPath: string;
  #port = 0;
  #server: ServerProcess | undefined;
  #disposed = false;

  constructor(
    private readonly mariadbd: string,
    private readonly dir: string,
    readonly dataDir: string,
    readonly rootPassword: string,
    private readonly user: OsUser | undefined,
    private readonly options: MariadbOptions,
  ) {
    this.logFile = join(dir, 'mariadb.log');
    this.socketPath = join(dir, 'mariadbd.sock');
  }

  get port(): number {
    return this.#port;
  }

  rootUrl(db?: string): string {
    return mysqlUrl(this.host, this.#port, 'root', this.rootPassword, db);
  }

  url(user: string, password: string, db?: string): string {
    return mysqlUrl(this.host, this.#port, user, password, db);
  }

  query<T = Record<string, unknown>[]>(sql: string, params?: unknown[], db?: string): Promise<T> {
    return mysqlQuery<T>(this.#rootTarget(this.#port, db), sql, params);
  }

  async firstStart(): Promise<void> {
    const { server, port } = await launchOnFreePort(
      await freePort(),
      true,
      (port) => this.#launch(port, { socketPath: this.socketPath, user: 'root', password: '' }),
      freePort,
    );
    this.#server = server;
    this.#port = port;
    // mariadb-install-db created root@localhost, root@127.0.0.1, root@::1 and root@<hostname>,
    // all without a password. Give ours to the first three over one socket connection (the
    // first ALTER already locks out a second password-less login); the hostname account is
    // ignored under --skip-name-resolve (ALTER USER fails on it) and only warns at every start,
    // so remove its rows.
    const loopbackHosts = ['localhost', '127.0.0.1', '::1'];
    await withMysql({ socketPath: this.socketPath, user: 'root', password: '' }, async (connection) => {
      for (const host of loopbackHosts) {
        await connection.query('ALTER USER IF EXISTS ?@? IDENTIFIED BY ?', ['root', host, this.rootPassword]);
      }
      await connection.query('DELETE FROM mysql.global_priv WHERE Host NOT IN (?)', [loopbackHosts]);
      await connection.query('DELETE FROM mysql.proxies_priv WHERE Host NOT IN (?)', [loopbackHosts]);
      await connection.query('FLUSH PRIVILEGES');
    });
  }

  async start(): Promise<void> {
    if (this.#disposed) throw new Error(`MariaDB in ${this.dir} was disposed; start a new one`);
    if (this.#server?.running) return;
    this.#server = await this.#launch(this.#port, this.#rootTarget(this.#port));
  }

  async stop(): Promise<void> {
    await this.#server?.terminate([
      ['SIGTERM', 30_000],
      ['SIGKILL', 10_000],
    ]);
  }

  async kill(): Promise<void> {
    await this.#server?.killHard();
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

  #rootTarget(port: number, database?: string): MysqlTarget {
    return { host: this.host, port, user: 'root', password: this.rootPassword, database };
  }

  async #launch(port: number, probeTarget: MysqlTarget): Promise<ServerProcess> {
    const settings = Object.entries(this.options.settings ?? {}).map(([key, value]) => `--${key}=${value}`);
    const server = ServerProcess.launch({
      name: `mariadbd on ${LOOPBACK}:${port}`,
      command: this.mariadbd,
      args: [
        '--no-defaults',
        `--datadir=${this.dataDir}`,
        `--port=${port}`,
        `--bind-address=${LOOPBACK}`,
        `--socket=${this.socketPath}`,
        `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
        `--log-error=${this.logFile}`,
        `--tmpdir=${this.dir}`,
        `--log-bin=${join(this.dir, 'binlog')}`,
        '--binlog-format=ROW',
        '--binlog-row-image=FULL',
        '--server-id=1',
        '--innodb-flush-log-at-trx-commit=2',
        '--skip-name-resolve',
        ...settings,
      ],
      cwd: this.dir,
      logFile: this.logFile,
      user: this.user,
      parentDeathSignal: 'SIGKILL',
    });
    try {
      await waitUntilReady(server, () => mysqlReady(probeTarget), `MariaDB on ${LOOPBACK}:${port} to accept connections`);
    } catch (err) {
      await server.terminate([['SIGKILL', 10_000]]);
      throw err;
    }
    return server;
  }
}
