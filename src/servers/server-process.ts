// One run of a server binary as a child process, and the guarantees that it does not outlive this
// process: servers are stopped by their owners, signalled on 'exit' if they were not, and get a
// parent-death signal (setpriv --pdeathsig) for the cases where 'exit' never runs (SIGKILL,
// crash).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { findExecutable } from './binaries.ts';
import { trackServer } from './exit-cleanup.ts';
import type { OsUser } from './os-user.ts';
import { isAlive } from './pids.ts';
import { waitFor } from './wait.ts';

/** The last `lines` lines of a log file, from byte `fromOffset` on (where one run's output starts). */
export function logTail(file: string, lines = 40, fromOffset = 0): string {
  try {
    const text = readFileSync(file).subarray(fromOffset).toString('utf8').trimEnd();
    return text === '' ? '(log is empty)' : text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export interface LaunchSpec {
  /** For messages: "postgres", "nats-server". */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Drop to this OS user (we are root). */
  user?: OsUser;
  /**
   * What the server receives when this process dies without stopping it, and on 'exit'.
   * SIGQUIT for PostgreSQL (immediate shutdown that also ends its backends), SIGKILL otherwise.
   */
  parentDeathSignal: NodeJS.Signals;
  /**
   * Run in a process group of its own, so a Ctrl-C at the terminal (SIGINT to the foreground
   * group) reaches only us and we stop the server after what depends on it (the demo drains the
   * bridge first). Default false: the server is in our group.
   */
  detached?: boolean;
  /** Variables added to (or replacing) the inherited environment. */
  env?: Record<string, string>;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

let setprivPath: string | undefined | null = null;
function setpriv(): string | undefined {
  if (setprivPath === null) setprivPath = findExecutable('setpriv');
  return setprivPath;
}

/** One run of a server binary. A restart is a new ServerProcess. */
export class ServerProcess {
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  /** Aborts when the process exits, with a reason that names the exit and quotes the log tail. */
  readonly exitSignal: AbortSignal;
  #exitInfo: ExitInfo | undefined;
  readonly #child: ChildProcess;
  /** Where this run's output starts in the (shared across restarts) log file. */
  readonly #logOffset: number;

  private constructor(readonly spec: LaunchSpec) {
    this.#logOffset = fileSize(spec.logFile);
    const log = openSync(spec.logFile, 'a');
    const wrapper = setpriv();
    let command = spec.command;
    let args = spec.args;
    const options: Parameters<typeof spawn>[2] = {
      cwd: spec.cwd,
      stdio: ['ignore', log, log],
      detached: spec.detached === true,
      ...(spec.env !== undefined && { env: { ...process.env, ...spec.env } }),
    };
    if (wrapper) {
      const drop = spec.user
        ? ['--reuid', String(spec.user.uid), '--regid', String(spec.user.gid), '--init-groups']
        : [];
      // setpriv applies the death signal after changing ids (a uid change would clear it) and
      // then execs, so the pid we hold is the server's own.
      args = [...drop, '--pdeathsig', spec.parentDeathSignal.replace(/^SIG/, ''), '--', command, ...args];
      command = wrapper;
    } else if (spec.user) {
      options.uid = spec.user.uid;
      options.gid = spec.user.gid;
    }
    try {
      this.#child = spawn(command, args, options);
    } finally {
      closeSync(log);
    }
    const controller = new AbortController();
    this.exitSignal = controller.signal;
    let untrack = (): void => undefined;
    this.exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo) => {
        if (this.#exitInfo) return;
        this.#exitInfo = info;
        untrack();
        controller.abort(
          new Error(
            `${spec.name} exited (${describeExit(info)}); end of ${spec.logFile}:\n${this.logTail()}`,
          ),
        );
        resolve(info);
      };
      this.#child.once('exit', (code, signal) => done({ code, signal }));
      this.#child.once('error', (error) => done({ code: null, signal: null, error }));
    });
    this.pid = this.#child.pid ?? -1;
    // 'exit' and 'error' are emitted asynchronously, so this runs before done() can.
    if (this.#child.pid !== undefined) untrack = trackServer(() => this.signal(spec.parentDeathSignal));
  }

  static launch(spec: LaunchSpec): ServerProcess {
    return new ServerProcess(spec);
  }

  /** The end of this run's output. */
  logTail(lines = 40): string {
    return logTail(this.spec.logFile, lines, this.#logOffset);
  }

  get running(): boolean {
    return this.#exitInfo === undefined;
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exitInfo;
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }

  /**
   * Sends each signal in turn and waits up to its timeout for the exit; the last step should be
   * SIGKILL. Resolves once the process has exited.
   */
  async terminate(steps: Array<[NodeJS.Signals, number]>): Promise<ExitInfo> {
    for (const [signal, timeoutMs] of steps) {
      if (!this.running) break;
      this.signal(signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      await Promise.race([this.exited, timedOut]);
      clearTimeout(timer);
    }
    return this.exited;
  }

  /** SIGKILL, then wait for the exit and for the given former children (orphans) to be gone. */
  async killHard(orphansToAwait: number[] = []): Promise<void> {
    await this.terminate([['SIGKILL', 10_000]]);
    await waitFor(() => orphansToAwait.every((pid) => !isAlive(pid)), {
      what: `the children of ${this.spec.name} (pids ${orphansToAwait.join(', ')}) to exit after SIGKILL`,
      timeoutMs: 30_000,
      intervalMs: 20,
    });
  }
}

function describeExit(info: ExitInfo): string {
  if (info.error) return `failed to spawn: ${info.error.message}`;
  if (info.signal) return `signal ${info.signal}`;
  return `code ${info.code}`;
}

/** Runs a one-shot tool (initdb, mariadb-install-db) to completion; a failure quotes its output. */
export async function runToCompletion(spec: Omit<LaunchSpec, 'parentDeathSignal'>): Promise<void> {
  const tool = ServerProcess.launch({ ...spec, parentDeathSignal: 'SIGKILL' });
  const info = await tool.exited;
  if (info.error || info.code !== 0) {
    throw new Error(`${spec.name} failed (${describeExit(info)}); end of ${spec.logFile}:\n${tool.logTail()}`, {
      cause: info.error,
    });
  }
}

/**
 * Waits until `probe` succeeds against a server that was just launched. Stops at once if the
 * process exits; on timeout the error quotes the end of its log.
 */
export async function waitUntilReady(
  server: ServerProcess,
  probe: () => Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  try {
    await waitFor(probe, { what, timeoutMs, intervalMs: 50, signal: server.exitSignal });
  } catch (err) {
    if (server.exitSignal.aborted) throw server.exitSignal.reason;
    throw new Error(`${(err as Error).message}; end of ${server.spec.logFile}:\n${server.logTail()}`, { cause: err });
  }
}

/**
 * Launches a server on `port`, and when this is the first start and the port was taken between
 * freePort() and the bind, retries on a fresh port. Returns the running process and its port.
 */
export async function launchOnFreePort(
  firstPort: number,
  retryWithNewPort: boolean,
  launch: (port: number) => Promise<ServerProcess>,
  newPort: () => Promise<number>,
): Promise<{ server: ServerProcess; port: number }> {
  let port = firstPort;
  for (let attempt = 1; ; attempt++) {
    try {
      return { server: await launch(port), port };
    } catch (err) {
      const portTaken = /address already in use/i.test(String((err as Error).message));
      if (!retryWithNewPort || !portTaken || attempt >= 3) throw err;
      port = await newPort();
    }
  }
}
