// nats-server (JetStream enabled) as a child process on a free 127.0.0.1 port; the tests and the demo use it.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { requireNatsServer } from './binaries.ts';
import { freePort, LOOPBACK } from './ports.ts';
import { launchOnFreePort, ServerProcess, waitUntilReady } from './server-process.ts';
import { makeTempDir, removeTempDir } from './temp-dir.ts';
import type { NatsOptions, NatsServer, ServerProcessInfo } from './types.ts';

export type NatsProcessServer = NatsServer & ServerProcessInfo;

export async function startNatsProcess(options: NatsOptions = {}): Promise<NatsProcessServer> {
  const binary = requireNatsServer();
  const purpose = options.purpose ?? 'test';
  const dir = makeTempDir('nats', undefined, purpose);
  try {
    const storeDir = options.storeDir ?? join(dir, 'js');
    mkdirSync(storeDir, { recursive: true });
    const server = new NatsProcess(binary, dir, storeDir, join(dir, 'nats-server.log'), purpose, options.detached === true);
    await server.firstStart(options.port);
    return server;
  } catch (err) {
    removeTempDir(dir);
    throw err;
  }
}

/**
 * Ready when a client connection gets the server's INFO line and it reports JetStream (and, if
 * given, our server name: without auth, another server that holds the port would pass too). The
 * listener opens only after JetStream has restored its streams, so they are there by then.
 */
export function natsReady(
  port: number,
  timeoutMs = 2_000,
  host: string = LOOPBACK,
  serverName?: string,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port });
    let received = '';
    const finish = (err: Error | undefined, ok = false) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(new Error(`no INFO from ${host}:${port} within ${timeoutMs} ms`)));
    socket.on('error', (err) => finish(err));
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      const end = received.indexOf('\r\n');
      if (end === -1) return;
      const line = received.slice(0, end);
      if (!line.startsWith('INFO ')) return finish(new Error(`unexpected greeting: ${line.slice(0, 200)}`));
      const info = JSON.parse(line.slice(5)) as { jetstream?: boolean; server_name?: string };
      if (serverName !== undefined && info.server_name !== serverName) {
        return finish(new Error(`${host}:${port} is another server (${info.server_name}), not ${serverName}`));
      }
      if (!info.jetstream) return finish(new Error('server is up but JetStream is not enabled'));
      finish(undefined, true);
    });
  });
}

class NatsProcess implements NatsProcessServer {
  readonly backend = 'process';
  #port = 0;
  #server: ServerProcess | undefined;
  #disposed = false;
  /** Kept across restarts, so a restart is the same server to JetStream; unique, so the readiness probe knows it is us. */
  readonly serverName: string;

  constructor(
    private readonly binary: string,
    readonly dir: string,
    readonly storeDir: string,
    readonly logFile: string,
    purpose: string,
    private readonly detached: boolean,
  ) {
    this.serverName = `hms-sync-${purpose}-${randomBytes(6).toString('hex')}`;
  }

  get port(): number {
    return this.#port;
  }

  get pid(): number | undefined {
    return this.#server?.running ? this.#server.pid : undefined;
  }

  get url(): string {
    return `nats://${LOOPBACK}:${this.#port}`;
  }

  async firstStart(fixedPort: number | undefined): Promise<void> {
    const { server, port } = await launchOnFreePort(
      fixedPort ?? (await freePort()),
      fixedPort === undefined,
      (port) => this.#launch(port),
      freePort,
    );
    this.#server = server;
    this.#port = port;
  }

  async start(): Promise<void> {
    if (this.#disposed) throw new Error(`nats-server in ${this.dir} was disposed; start a new one`);
    if (this.#server?.running) return;
    this.#server = await this.#launch(this.#port);
  }

  async stop(): Promise<void> {
    // SIGTERM is a clean shutdown: JetStream flushes and closes its stores.
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
      // A caller-provided store dir outside our temp dir is the caller's to remove.
      removeTempDir(this.dir);
    }
  }

  async #launch(port: number): Promise<ServerProcess> {
    const server = ServerProcess.launch({
      name: `nats-server on ${LOOPBACK}:${port}`,
      command: this.binary,
      args: ['-js', '-a', LOOPBACK, '-p', String(port), '-sd', this.storeDir, '-n', this.serverName],
      cwd: this.dir,
      logFile: this.logFile,
      parentDeathSignal: 'SIGKILL',
      detached: this.detached,
    });
    try {
      await waitUntilReady(server, () => natsReady(port, 2_000, LOOPBACK, this.serverName), `nats-server on ${LOOPBACK}:${port} with JetStream`, 30_000);
    } catch (err) {
      await server.terminate([['SIGKILL', 10_000]]);
      throw err;
    }
    return server;
  }
}
