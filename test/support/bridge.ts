// The bridge as a child process (`node bin/hms-sync.js run -c FILE`), so tests can SIGKILL it
// at any moment, and the files it needs (config, mapping files) written into a temp folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'bin', 'hms-sync.js');

export interface BridgeProcess extends AsyncDisposable {
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  waitForOutput(pattern: RegExp, what: string, timeoutMs?: number): Promise<void>;
  /** SIGKILL, resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM, resolves with the exit code. */
  stop(): Promise<number | null>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

// Children still running when the test process exits (a test that timed out) are killed
// with it, so no bridge outlives its test run.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function startBridgeProcess(args: string[], env: Record<string, string> = {}): BridgeProcess {
  const child: ChildProcess = track(
    spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, HMS_SYNC_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) =>
    child.on('exit', (code, signal) => resolvePromise({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const kill = async (): Promise<void> => {
    if (!gone) child.kill('SIGKILL');
    await exited;
  };
  return {
    pid: child.pid!,
    output: () => out,
    exited,
    async waitForOutput(pattern, what, timeoutMs = 30_000) {
      await waitFor(
        () => {
          // Complete lines only: output arrives in chunks, and a pattern found in a line whose end
          // has not arrived yet would let the caller parse half a JSON log line.
          if (pattern.test(out.slice(0, out.lastIndexOf('\n') + 1))) return true;
          if (gone) {
            if (pattern.test(out)) return true; // all of it has arrived
            throw new Error(`bridge exited before ${what}; output:\n${out.slice(-4000)}`);
          }
          return false;
        },
        { what, timeoutMs, intervalMs: 50 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n--- bridge output ---\n${out.slice(-4000)}`);
      });
    },
    kill,
    async stop() {
      if (!gone) child.kill('SIGTERM');
      const { code } = await exited;
      return code;
    },
    async [Symbol.asyncDispose]() {
      await kill();
    },
  };
}

/** Runs a CLI command to completion; returns its exit code and output. */
export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = track(spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export interface Workspace extends Disposable {
  readonly dir: string;
  write(relativePath: string, content: string): string;
}

export function workspace(prefix = 'hms-sync-test-'): Workspace {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write(relativePath, content) {
      const path = join(dir, relativePath);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      return path;
    },
    [Symbol.dispose]() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface BridgeConfigOptions {
  natsUrl: string;
  /** Unique per test: stream, prefix and buckets are derived from it. */
  id: string;
  source: { name: string; url: string; extra?: string; /** Default postgres. */ kind?: 'postgres' | 'mysql' | 'oracle' | 'mssql' };
  mappings: Record<string, string>;
  /** Top-level YAML appended to the config (e.g. `http:` or `subscribers:` blocks), unindented. */
  top?: string;
  /** Extra keys of the `nats:` block (e.g. `heartbeat: 200ms`), one per line, unindented. */
  nats?: string;
}

export interface BridgeSetup {
  configPath: string;
  stream: string;
  prefix: string;
  bucket: string;
  slot: string;
  publication: string;
}

/** Writes hms-sync.yaml and mappings/<source>/*.yaml into the workspace. */
export function writeBridgeFiles(ws: Workspace, options: BridgeConfigOptions): BridgeSetup {
  const id = options.id.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  const stream = `T_${id}`.toUpperCase();
  const prefix = `t.${id}`;
  const bucket = `offsets_${id}`;
  const slot = `slot_${id}`;
  const publication = `pub_${id}`;
  for (const [file, content] of Object.entries(options.mappings)) ws.write(join('mappings', options.source.name, file), content);
  const configPath = ws.write(
    'hms-sync.yaml',
    [
      'nats:',
      `  servers: ${options.natsUrl}`,
      `  stream: ${stream}`,
      `  subjectPrefix: ${prefix}`,
      `  offsetsBucket: ${bucket}`,
      ...(options.nats ? options.nats.split('\n').map((l) => `  ${l}`) : []),
      'sources:',
      `  - name: ${options.source.name}`,
      `    kind: ${options.source.kind ?? 'postgres'}`,
      `    url: ${options.source.url}`,
      `    mappings: ./mappings/${options.source.name}`,
      `    publication: ${publication}`,
      `    slot: ${slot}`,
      ...(options.source.extra ? options.source.extra.split('\n').map((l) => `    ${l}`) : []),
      ...(options.top ? [options.top] : []),
      '',
    ].join('\n'),
  );
  return { configPath, stream, prefix, bucket, slot, publication };
}
