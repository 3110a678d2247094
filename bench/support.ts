// What every bench phase shares: the bridge as a child process, a JetStream message count,
// and CPU and memory read from /proc (what each process spent, not what a profile guesses).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { compiledIsCurrent } from '../bin/load.js';
import { descendantPids } from '../src/servers/index.ts';
import { startNatsProfile } from './nats-profile.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
/** The scale of the 1M-row phases (RSS, polling, reconciliation); BENCH_BIG_ROWS to shrink it while developing. */
export const BIG_ROWS = Number(process.env.BENCH_BIG_ROWS ?? 1_000_000);

/**
 * The node flags `hms-sync` runs with: what follows `node` on bin/hms-sync.js's first line
 * (`#!/usr/bin/env -S node FLAGS`). Bridges get them unless a phase says otherwise, and the
 * bench process itself runs with them (its polling and reconciliation phases run in-process).
 */
export const CLI_NODE_FLAGS: readonly string[] = (() => {
  const words = readFileSync(join(ROOT, 'bin', 'hms-sync.js'), 'utf8').split('\n', 1)[0]!.split(/\s+/);
  return words.slice(words.indexOf('node') + 1);
})();

export function log(message: string): void {
  console.error(`bench: ${message}`);
}

const TICK_S = 0.01; // USER_HZ is 100 on Linux

/** CPU seconds a process spent so far (user + system), with its reaped children when `children`. */
export function cpuSeconds(pid: number | undefined, children = false): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ": state is f[0], utime f[11], stime f[12], cutime f[13], cstime f[14].
    const own = Number(f[11]) + Number(f[12]);
    return (children ? own + Number(f[13]) + Number(f[14]) : own) * TICK_S;
  } catch {
    return 0;
  }
}

/** A process tree's CPU (the root with its reaped children, and every live descendant). */
export function treeCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  return cpuSeconds(pid, true) + descendantPids(pid).reduce((sum, child) => sum + cpuSeconds(child), 0);
}

/** Seconds the whole machine's CPUs were busy (all cores summed), from /proc/stat. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  return (line.reduce((a, b) => a + b, 0) - idle) * TICK_S;
}

/**
 * Before a measured phase: flushes dirty pages (`sync`) and waits, at most 30 s, until the
 * machine is quiet (under a fifth of a core busy for half a second), so what an earlier phase
 * left running (page writeback, a stopped server's files being freed, autovacuum) is not
 * measured as this one's. Logs what it waited for.
 */
export async function settle(what: string): Promise<void> {
  const started = Date.now();
  spawnSync('sync');
  for (;;) {
    const before = machineBusySeconds();
    await new Promise((r) => setTimeout(r, 500));
    const cores = (machineBusySeconds() - before) / 0.5;
    const waited = (Date.now() - started) / 1000;
    if (cores < 0.2 || waited > 30) {
      if (waited > 1) log(`${what}: waited ${waited.toFixed(1)} s for a quiet machine (${cores.toFixed(2)} cores busy)`);
      return;
    }
  }
}

export type CpuProbes = Record<string, () => number>;

/** CPU seconds each probe's process spent between start() and the returned stop(). */
export function measureCpu(probes: CpuProbes): () => Record<string, number> {
  const before = Object.fromEntries(Object.entries(probes).map(([name, probe]) => [name, probe()]));
  const busyBefore = machineBusySeconds();
  return () => {
    const out: Record<string, number> = {};
    for (const [name, probe] of Object.entries(probes)) out[name] = probe() - before[name]!;
    out.machine = machineBusySeconds() - busyBefore;
    return out;
  };
}

/** "bridge 12.1, nats-server 8.0, ... µs a row" */
export function perRow(cpu: Record<string, number>, rows: number): string {
  return Object.entries(cpu)
    .map(([name, s]) => `${name} ${((s * 1e6) / rows).toFixed(1)}`)
    .join(', ');
}

/** Where a bridge's main thread (its event loop) spent a window, as fractions of the window's wall time. */
export interface MainThreadSplit {
  /** Running on a core. */
  onCore: number;
  /** Runnable, waiting for a core another process held. */
  waiting: number;
  /** Neither: the event loop waited for I/O (data from the source, acks from JetStream). */
  idle: number;
}

/**
 * Starts timing a process's main thread from the scheduler's own accounting
 * (`/proc/<pid>/task/<pid>/schedstat`: nanoseconds on a core, nanoseconds runnable but
 * waiting). The stop function returns undefined where the kernel keeps no such file.
 */
export function measureMainThread(pid: number): () => MainThreadSplit | undefined {
  const read = (): [number, number] | undefined => {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
      return run !== undefined && wait !== undefined && Number.isFinite(run) && Number.isFinite(wait) ? [run, wait] : undefined;
    } catch {
      return undefined;
    }
  };
  const before = read();
  const started = process.hrtime.bigint();
  return () => {
    const after = read();
    const wall = Number(process.hrtime.bigint() - started);
    if (before === undefined || after === undefined || wall <= 0) return undefined;
    const onCore = (after[0] - before[0]) / wall;
    const waiting = (after[1] - before[1]) / wall;
    return { onCore, waiting, idle: Math.max(0, 1 - onCore - waiting) };
  };
}

/** "on a core 78 %, waiting for a core 12 %, idle 10 %" */
export function describeSplit(split: MainThreadSplit): string {
  const pct = (x: number): string => `${Math.round(x * 100)} %`;
  return `on a core ${pct(split.onCore)}, waiting for a core ${pct(split.waiting)}, idle ${pct(split.idle)}`;
}

export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
}

export interface BridgeSpec {
  natsUrl: string;
  stream: string;
  subjectPrefix: string;
  offsetsBucket: string;
  /** The YAML flow mapping of the one source. */
  source: string;
  mappings: Record<string, string>;
  logLevel?: string;
  /** Node flags for this bridge (CLI_NODE_FLAGS when absent), before any from BENCH_BRIDGE_NODE_OPTIONS. */
  nodeFlags?: readonly string[];
}

/** A bridge (`hms-sync run`) as a child process, with a CPU profile where BENCH_PROFILE=DIR. */
export class Bridge {
  readonly child: ChildProcess;
  /** When (process.hrtime) the process was spawned. */
  readonly spawnedAt = process.hrtime.bigint();
  private readonly dir: string;
  private stderr = '';

  constructor(spec: BridgeSpec) {
    this.dir = mkdtempSync(join(tmpdir(), 'hms-sync-bench-'));
    mkdirSync(join(this.dir, 'mappings'));
    for (const [file, text] of Object.entries(spec.mappings)) writeFileSync(join(this.dir, 'mappings', file), text);
    writeFileSync(
      join(this.dir, 'hms-sync.yaml'),
      `nats: { servers: ${spec.natsUrl}, stream: ${spec.stream}, subjectPrefix: ${spec.subjectPrefix}, offsetsBucket: ${spec.offsetsBucket}${
        process.env.BENCH_MAX_INFLIGHT ? `, maxInflight: ${Number(process.env.BENCH_MAX_INFLIGHT)}` : ''
      } }
sources:
  - ${spec.source}
log: { level: ${spec.logLevel ?? 'warn'} }
`,
    );
    if (!compiledIsCurrent()) log('WARNING: a source changed after dist/js was built: this bridge runs the sources through tsx (~30 MB more): its figures are not comparable');
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    // BENCH_BRIDGE_NODE_OPTIONS: node flags for the bridge only, after the others so they win
    // (experiments; the figures in docs/benchmarks.md are with none).
    const flags = [...(spec.nodeFlags ?? CLI_NODE_FLAGS), ...(process.env.BENCH_BRIDGE_NODE_OPTIONS?.split(/\s+/).filter(Boolean) ?? [])];
    this.child = spawn(process.execPath, [...flags, ...profile, join(ROOT, 'bin', 'hms-sync.js'), 'run', '-c', join(this.dir, 'hms-sync.yaml')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logFile = process.env.BENCH_BRIDGE_LOG; // BENCH_BRIDGE_LOG=FILE: all bridge output appended there
    const keep = (chunk: Buffer): void => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-20_000);
      if (logFile) appendFileSync(logFile, chunk);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get output(): string {
    return this.stderr;
  }

  async waitForOutput(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!pattern.test(this.stderr)) {
      if (this.child.exitCode !== null) throw new Error(`bridge exited (${this.child.exitCode}):\n${this.stderr}`);
      if (Date.now() > until) throw new Error(`bridge did not print ${pattern} in ${timeoutMs} ms:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Counts the envelopes of a bridge's stream. The stream also holds its sources' status
 * messages (`<prefix>.<source>.status`: "online" when a bridge starts streaming, also an
 * earlier bridge's) and any dead letters (`<prefix>.<source>.dlq.<entity>`), which are not
 * envelopes: a catch-up timed from the stream's first message would start at a status
 * message, before the bridge read anything. So the first envelope is seen on a core
 * subscription (open this before the bridge starts), and the envelopes are counted as the
 * stream's messages less those on status and dead-letter subjects.
 */
export class StreamCount implements AsyncDisposable {
  private firstAt: bigint | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly prefix: string,
    now: () => bigint,
  ) {
    // A callback, not an iterator: the messages delivered before the server has the UNSUB (a
    // burst of envelopes) still come, and only the first may set the clock.
    const subscription = nc.subscribe(`${prefix}.>`, {
      callback: (error, message) => {
        if (error || this.firstAt !== undefined || !isEnvelopeSubject(prefix, message.subject)) return;
        this.firstAt = now();
        subscription.unsubscribe();
      },
    });
  }

  /** Opens a connection and subscribes, before the bridge publishes. `now`: the clock (tests count calls with it). */
  static async open(natsUrl: string, stream: string, subjectPrefix: string, now: () => bigint = process.hrtime.bigint): Promise<StreamCount> {
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    const counter = new StreamCount(nc, jsm, stream, subjectPrefix, now);
    await nc.flush(); // the subscription is on the server
    return counter;
  }

  /** When (process.hrtime) the first envelope was published, once it was. */
  get firstEnvelopeAt(): bigint | undefined {
    return this.firstAt;
  }

  /** Messages in the stream, envelopes or not: one cheap request, a bound from above. */
  async messages(): Promise<number> {
    return (await this.jsm.streams.info(this.stream).catch(() => undefined))?.state.messages ?? 0;
  }

  /** Envelopes in the stream: its messages less status messages and dead letters. */
  async envelopes(): Promise<number> {
    const others = async (filter: string): Promise<number> => {
      const info = await this.jsm.streams.info(this.stream, { subjects_filter: filter });
      return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
    };
    const [messages, status, dlq] = await Promise.all([this.messages(), others(`${this.prefix}.*.status`), others(`${this.prefix}.*.dlq.*`)]);
    return messages - status - dlq;
  }

  /** Deletes the stream, so a later phase's nats-server does not carry its 200,000 messages. */
  async deleteStream(): Promise<void> {
    await this.jsm.streams.delete(this.stream).catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.nc.close();
  }
}

/** `<prefix>.<source>.<entity>.<key>`, not `<prefix>.<source>.status` nor `<prefix>.<source>.dlq.<entity>`. */
export function isEnvelopeSubject(prefix: string, subject: string): boolean {
  if (!subject.startsWith(`${prefix}.`)) return false;
  const tokens = subject.slice(prefix.length + 1).split('.');
  return tokens.length >= 3 && tokens[1] !== 'dlq';
}

/**
 * Times the bridge from its first envelope (published) to `total` envelopes in the stream;
 * with `probes`, also the CPU each probed process spent over that window and the bridge's
 * main-thread split. Open `counter` before the bridge starts.
 */
export async function timeCatchUp(
  counter: StreamCount,
  total: number,
  bridge: Bridge,
  probes?: CpuProbes,
): Promise<{ rowsPerS: number; seconds: number; startSeconds: number; cpu: Record<string, number>; mainThread?: MainThreadSplit }> {
  const poll = async (until: () => Promise<boolean> | boolean, what: string, timeoutMs: number, intervalMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await until()) return;
      if (bridge.child.exitCode !== null) throw new Error(`bridge exited while waiting for ${what}:\n${bridge.output}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${await counter.messages()} messages in the stream so far):\n${bridge.output}`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  };
  await poll(() => counter.firstEnvelopeAt !== undefined, 'the first envelope', 60_000, 2);
  const first = counter.firstEnvelopeAt!;
  const stopMainThread = probes && measureMainThread(bridge.pid);
  const stopCpu = probes && measureCpu(probes);
  const natsProfile = startNatsProfile();
  // The stream's message count is one cheap request; the exact envelope count (which asks the
  // server to look its status and dead-letter subjects up) only once that count is reached.
  await poll(async () => (await counter.messages()) >= total && (await counter.envelopes()) >= total, `${total} envelopes`, 600_000, 20);
  const seconds = Number(process.hrtime.bigint() - first) / 1e9;
  const cpu = stopCpu?.() ?? {};
  const mainThread = stopMainThread?.();
  if (natsProfile) log(`nats-server's profile from the first envelope: ${(await natsProfile).join('; ')}`);
  // The window starts as the first envelope was published: the other total - 1 came in it.
  // startSeconds: from the spawn to the first envelope (node, modules, connections, the source's first change).
  return { rowsPerS: (total - 1) / seconds, seconds, startSeconds: Number(first - bridge.spawnedAt) / 1e9, cpu, ...(mainThread && { mainThread }) };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}
