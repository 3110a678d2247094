// Child processes and temp dirs of the test servers, and the guarantees that neither outlives the
// test process: servers are stopped by their owners, killed on 'exit' if they were not, and get
// a parent-death signal (setpriv --pdeathsig) for the cases where 'exit' never runs (SIGKILL,
// crash). Temp dirs left by a process that died that way are swept by the next run.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { waitFor } from './wait.ts';

const TEMP_PREFIX = 'hms-sync-test-';

/** An OS account a server runs as. PostgreSQL's initdb and postgres refuse to run as root. */
export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The account to drop to when we are root (`postgres`, `mysql`; both created by the Debian
 * packages), or undefined when we are not root and the server simply runs as us.
 */
export function serviceUser(name: string): OsUser | undefined {
  if (!isRoot()) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { name, uid, gid };
  } catch (err) {
    throw new Error(
      `OS user "${name}" does not exist; the server cannot run as root. Run scripts/install-deps.sh (its packages create the user).`,
      { cause: err },
    );
  }
}

/** First executable named `name` in the given dirs, then in PATH and the sbin dirs (not in PATH for non-root users). */
export function findExecutable(name: string, preferredDirs: string[] = []): string | undefined {
  const dirs = [
    ...preferredDirs,
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ].filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Temp dirs

const liveTempDirs = new Set<string>();
let swept = false;

function tempBase(): string {
  // The servers run as another OS user when we are root, so the base must be traversable by
  // them: /tmp is, a TMPDIR under /root would not be.
  return process.env.HMS_SYNC_TEST_TMPDIR ?? tmpdir();
}

/**
 * A fresh dir `hms-sync-test-<kind>-<pid>-XXXXXX` under the temp base, mode 0700, owned by
 * `owner` if given. The pid in the name lets a later run remove dirs whose process is gone.
 */
export function makeTempDir(kind: string, owner?: OsUser): string {
  if (!swept) {
    swept = true;
    sweepStaleTempDirs();
  }
  const dir = mkdtempSync(join(tempBase(), `${TEMP_PREFIX}${kind}-${process.pid}-`));
  chmodSync(dir, 0o700);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  liveTempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  liveTempDirs.delete(dir);
}

function sweepStaleTempDirs(): void {
  const base = tempBase();
  let entries: string[];
  try {
    entries = readdirSync(base);
  } catch {
    return;
  }
  for (const entry of entries) {
    const match = /^hms-sync-test-[a-z0-9]+-(\d+)-/.exec(entry);
    if (!match || isAlive(Number(match[1]))) continue;
    try {
      rmSync(join(base, entry), { recursive: true, force: true });
    } catch {
      // Not ours to fight over; the next sweep tries again.
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie still answers kill(0); when init does not reap promptly it must still count as gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** All descendants of `pid` (Linux /proc). Used to wait for PostgreSQL backends orphaned by a SIGKILLed postmaster. */
export function descendantPids(pid: number): number[] {
  const parentOf = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ..."; comm may contain spaces and parens, so split after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // exited while we looked
    }
  }
  const result: number[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [child, ppid] of parentOf) {
      if (ppid === parent) {
        result.push(child);
        frontier.push(child);
      }
    }
  }
  return result;
}

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
   * What the server receives when the test process dies without stopping it, and on 'exit'.
   * SIGQUIT for PostgreSQL (immediate shutdown that also ends its backends), SIGKILL otherwise.
   */
  parentDeathSignal: NodeJS.Signals;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

const liveProcesses = new Set<ServerProcess>();

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
    const options: Parameters<typeof spawn>[2] = { cwd: spec.cwd, stdio: ['ignore', log, log] };
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
    this.exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo) => {
        if (this.#exitInfo) return;
        this.#exitInfo = info;
        liveProcesses.delete(this);
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
    if (this.#child.pid !== undefined) liveProcesses.add(this);
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

process.on('exit', () => {
  for (const server of liveProcesses) server.signal(server.spec.parentDeathSignal);
  for (const dir of liveTempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort; the next run sweeps it
    }
  }
});

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
