// nats-server (JetStream enabled) as a child process on a free 127.0.0.1 port; the tests and the demo use it.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { join } from 'node:path';
import { requireNatsServer } from './binaries.ts';
import { freePort, LOOPBACK } from './ports.ts';
import { launchOnFreePort, ServerProcess, waitUntilReady } from './server-process.ts';
import { makeTempDir, removeTempDir } from './temp-dir.ts';
import { waitFor } from './wait.ts';
import type { NatsClusterOptions, NatsOptions, NatsServer, ServerProcessInfo } from './types.ts';

export type NatsProcessServer = NatsServer & ServerProcessInfo;

export async function startNatsProcess(options: NatsOptions = {}): Promise<NatsProcessServer> {
  const binary = requireNatsServer();
  const purpose = options.purpose ?? 'test';
  const dir = makeTempDir('nats', undefined, purpose);
  try {
    const storeDir = options.storeDir ?? join(dir, 'js');
    mkdirSync(storeDir, { recursive: true });
    const server = new NatsProcess(binary, dir, storeDir, join(dir, 'nats-server.log'), purpose, options.detached === true, {
      ...(options.config !== undefined && { config: options.config }),
      ...(options.serverName !== undefined && { serverName: options.serverName }),
      ...(options.args !== undefined && { args: options.args }),
      ...(options.goMaxProcs !== undefined && { goMaxProcs: options.goMaxProcs }),
    });
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

/** config: nats-server config file text (authorization, tls, cluster ...); flags still set port, host, store dir and name. */
type NatsProcessExtras = Pick<NatsOptions, 'config' | 'serverName' | 'args' | 'goMaxProcs'>;

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
    private readonly extras: NatsProcessExtras = {},
  ) {
    this.serverName = extras.serverName ?? `hms-sync-${purpose}-${randomBytes(6).toString('hex')}`;
    if (extras.config !== undefined) writeFileSync(join(dir, 'nats.conf'), extras.config);
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
      args: [
        ...(this.extras.config !== undefined ? ['-c', join(this.dir, 'nats.conf')] : []),
        '-js',
        '-a',
        LOOPBACK,
        '-p',
        String(port),
        '-sd',
        this.storeDir,
        '-n',
        this.serverName,
        ...(this.extras.args ?? []),
      ],
      cwd: this.dir,
      logFile: this.logFile,
      parentDeathSignal: 'SIGKILL',
      detached: this.detached,
      ...(this.extras.goMaxProcs !== undefined && { env: { GOMAXPROCS: String(this.extras.goMaxProcs) } }),
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

export interface NatsCluster extends AsyncDisposable {
  /** The nodes, in order; each can be killed and started again on its own. */
  readonly nodes: NatsProcessServer[];
  /** Client URLs of every node. */
  readonly urls: string[];
  /** Server names of every node (as JetStream names a stream's leader). */
  readonly serverNames: string[];
  /** Stops every node; the cluster can be disposed afterwards. */
  stop(): Promise<void>;
}

/**
 * A JetStream cluster of `nodes` nats-server processes on free 127.0.0.1 ports, routes between
 * them on 127.0.0.1, one store dir per node. Resolves once JetStream has a meta leader (a
 * stream with replicas can be created).
 */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const count = options.nodes ?? 3;
  const purpose = options.purpose ?? 'test';
  const clusterName = `hms-sync-${purpose}-${randomBytes(4).toString('hex')}`;
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  // Every node must know the others' route ports before any starts; taken together so they differ.
  while (clientPorts.length < count) {
    for (const ports of [clientPorts, routePorts]) {
      let port = await freePort();
      while (clientPorts.includes(port) || routePorts.includes(port)) port = await freePort();
      ports.push(port);
    }
  }
  const nodes: NatsProcessServer[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(nodes.map((node) => node[Symbol.asyncDispose]()));
  };
  try {
    // Started together: a node's JetStream waits for its peers before it reports ready.
    const started = await Promise.allSettled(
      clientPorts.map((port, index) =>
        startNatsProcess({
          purpose,
          port,
          ...(options.detached !== undefined && { detached: options.detached }),
          serverName: `${clusterName}-n${index + 1}`,
          config: [
            options.config ?? '',
            'cluster {',
            `  name: "${clusterName}"`,
            `  listen: "${LOOPBACK}:${routePorts[index]}"`,
            `  routes: [${routePorts.filter((_, i) => i !== index).map((p) => `"nats-route://${LOOPBACK}:${p}"`).join(', ')}]`,
            '}',
            '',
          ].join('\n'),
        }),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await waitForMetaLeader(nodes[0]!.url);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    nodes,
    urls: nodes.map((node) => node.url),
    serverNames: nodes.map((node) => (node as NatsProcess).serverName),
    stop: async () => {
      await Promise.allSettled(nodes.map((node) => node.stop()));
    },
    [Symbol.asyncDispose]: stopAll,
  };
}

async function waitForMetaLeader(url: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    await waitFor(
      async () => {
        try {
          await (await jetstreamManager(nc, { timeout: 2_000 })).getAccountInfo();
          return true;
        } catch {
          return false;
        }
      },
      { what: `the JetStream cluster behind ${url} to elect a meta leader`, timeoutMs: 60_000, intervalMs: 250 },
    );
  } finally {
    await nc.close();
  }
}
