// `hms-sync demo`, the README's first command, run as a user runs it: a child process that starts
// its own PostgreSQL and nats-server, shows changes flowing (on the terminal, and in the HTTP API
// and console on --port while it runs), and leaves nothing behind.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from '../../support/bridge.ts';
import { requestJson } from '../../support/http.ts';
import { freePort } from '../../support/ports.ts';
import { isAlive } from '../../support/process.ts';
import { waitFor } from '../../support/wait.ts';

const ENTITIES = ['bridge_inspection', 'crew', 'court_hearing'];

function match(output: string, pattern: RegExp, what: string): RegExpMatchArray {
  const found = pattern.exec(output);
  if (!found) throw new Error(`the demo's output shows no ${what} (${pattern}); output:\n${output}`);
  return found;
}

interface DemoProcess {
  stdout(): string;
  stderr(): string;
  /** Waits until stdout matches; fails early, with the output, if the demo exits first. */
  waitForStdout(pattern: RegExp, what: string, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  /** SIGKILL if still running (a failed test; the demo's servers die with it, parent-death signal). */
  kill(): void;
}

/** `hms-sync demo ARGS` as a child process, its stdout and stderr kept apart (the test reads stdout's lines). */
function startDemo(args: string[], killAfterMs: number): DemoProcess {
  const child = spawn(process.execPath, [CLI, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  let gone = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      gone = true;
      clearTimeout(timer);
      resolve(code);
    }),
  );
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill: () => {
      if (!gone) child.kill('SIGKILL');
    },
    waitForStdout: (pattern, what, timeoutMs = 60_000) =>
      waitFor(
        () => {
          const found = pattern.exec(stdout);
          if (found) return found;
          if (gone) throw new Error(`the demo exited before ${what}; output:\n${stdout}\n--- stderr ---\n${stderr}`);
          return undefined;
        },
        { what, timeoutMs, intervalMs: 50 },
      ),
  };
}

describe('hms-sync demo', () => {
  it('shows snapshot rows, c/u/d envelopes of all three entities, a dead letter and latency, serves the console and API, then stops cleanly', { timeout: 150_000 }, async () => {
    const port = await freePort();
    const demo = startDemo(['--duration', '20s', '--port', String(port)], 120_000);
    try {
      // While it runs: the console and API on --port, as `run` serves them.
      const base = (await demo.waitForStdout(/^ {2}console {9}(http:\/\/127\.0\.0\.1:\d+)\/ /m, 'the console line'))[1]!;
      expect(base).toBe(`http://127.0.0.1:${port}`);
      const token = (await demo.waitForStdout(/^ {18}console token: ([0-9a-f]{32}) /m, 'the console token'))[1]!;
      await demo.waitForStdout(/^\[\s+\d+\.\ds\] committed \d+ changes .* · modern: \d+ delivered/m, 'a periodic line');
      const health = await requestJson(`${base}/healthz`);
      expect(health.status, JSON.stringify(health.body)).toBe(200);
      expect(health.body).toMatchObject({ status: 'ok', sources: { demo: 'online' } });
      const sources = await requestJson<Array<{ name: string; state: string; method: string; envelopes: number; paused: boolean }>>(`${base}/api/sources`);
      expect(sources.status).toBe(200);
      expect(sources.body).toEqual([expect.objectContaining({ name: 'demo', state: 'online', method: 'log', paused: false })]);
      expect(sources.body[0]!.envelopes).toBeGreaterThanOrEqual(120);
      const deliveries = await waitFor(
        async () => {
          const { body } = await requestJson<Array<{ sub: string; status: string; entity: string }>>(`${base}/api/deliveries?limit=20`);
          return Array.isArray(body) && body.some((d) => d.sub === 'modern' && d.status === 'delivered') ? body : undefined;
        },
        { what: 'delivered records in /api/deliveries', timeoutMs: 15_000, intervalMs: 200 },
      );
      expect(deliveries.filter((d) => d.sub === 'modern' && d.status === 'delivered').length).toBeGreaterThan(0);
      const subscribers = await requestJson<Array<{ id: string; type: string; origin: string }>>(`${base}/api/subscribers`);
      expect(subscribers.body).toEqual([expect.objectContaining({ id: 'modern', type: 'postgres', origin: 'config' })]);
      expect((await requestJson(`${base}/`)).status).toBe(200);
      // Mutating calls take the printed token, and only it.
      expect((await requestJson(`${base}/api/reconcile`, { method: 'POST' })).status).toBe(401);
      expect((await requestJson(`${base}/api/sources/demo/pause`, { method: 'POST', token: 'wrong', json: {} })).status).toBe(401);

      const code = await demo.exited;
      const stdout = demo.stdout();
      const stderr = demo.stderr();
      const output = `${stdout}\n--- stderr ---\n${stderr}`;
      expect(code, output).toBe(0);
      expect(stderr).not.toContain(token);

      const postgresPid = Number(match(stdout, /^ {2}PostgreSQL [\d.]+\s+127\.0\.0\.1:\d+\s+pid (\d+)\s+(\S+)$/m, 'PostgreSQL line')[1]);
      const postgresDir = match(stdout, /^ {2}PostgreSQL .* pid \d+\s+(\S+)$/m, 'PostgreSQL dir')[1]!;
      const natsPid = Number(match(stdout, /^ {2}nats-server\s+127\.0\.0\.1:\d+\s+pid (\d+)\s+(\S+)$/m, 'nats-server line')[1]);
      const natsDir = match(stdout, /^ {2}nats-server .* pid \d+\s+(\S+)$/m, 'nats-server dir')[1]!;
      const configFile = match(stdout, /config (\S+\/hms-sync\.yaml)$/m, 'config file')[1]!;
      expect(stdout.split(token).length - 1, 'the token is printed once').toBe(1);

      // Full envelopes of every entity, printed as they arrive.
      for (const entity of ENTITIES) expect(stdout, output).toContain(`"entity": "${entity}"`);
      expect(stdout).toMatch(/legacy row {2}BRG_ID='B-\d+ +'/);
      expect(stdout).toContain('"before": {');

      // The dead letter: an impossible legacy date, named with the mapping file and field.
      match(stdout, /── dead letter: .* on hms\.sync\.demo\.dlq\.bridge_inspection/, 'dead letter block');
      expect(stdout).toMatch(/"error": ".*BRG_INSPECTIONS\.yaml: field nextDue .*invalid date \\"20250231\\"/);

      // Periodic progress with a latency figure.
      expect(stdout).toMatch(/\[\s+\d+\.\ds\] committed \d+ changes .* latency p50 \d+ ms p99 \d+ ms/);

      // The summary: every committed change arrived; c, u and d of each entity; one dead letter.
      const summary = stdout.slice(stdout.indexOf('\nsummary: '));
      expect(summary, output).toMatch(/^ {2}read +all of them: \d+ change envelopes and 1 dead letter, after 120 snapshot rows$/m);
      const totals = { c: 0, u: 0, d: 0 };
      for (const entity of ENTITIES) {
        const [, r, c, u, d] = match(summary, new RegExp(`^ +${entity} +r (\\d+) +c (\\d+) +u (\\d+) +d (\\d+)`, 'm'), `${entity} counts`);
        expect(Number(r)).toBe(40);
        expect(Number(c) + Number(u) + Number(d)).toBeGreaterThan(0);
        totals.c += Number(c);
        totals.u += Number(u);
        totals.d += Number(d);
      }
      expect(totals.c).toBeGreaterThan(0);
      expect(totals.u).toBeGreaterThan(0);
      expect(totals.d).toBeGreaterThan(0);
      expect(summary).toMatch(/^ {2}dead letters {2}1 on hms\.sync\.demo\.dlq\.bridge_inspection$/m);
      const [, changes, p50, p99] = match(summary, /latency +source commit -> read here, over (\d+) changes: p50 (\d+) ms, p99 (\d+) ms/, 'latency');
      expect(Number(changes)).toBeGreaterThan(100);
      expect(Number(p50)).toBeLessThanOrEqual(Number(p99));
      expect(summary).toMatch(/^ {2}subscriber {4}modern: \d+ delivered to database "modern"/m);
      expect(stdout).toMatch(/^stopped: bridge drained, nats-server stopped, PostgreSQL stopped, temp dirs removed$/m);

      // Nothing left behind: the servers are gone and so are their dirs and the config's.
      expect(isAlive(postgresPid), `postmaster ${postgresPid}`).toBe(false);
      expect(isAlive(natsPid), `nats-server ${natsPid}`).toBe(false);
      for (const dir of [postgresDir, natsDir, dirname(configFile)]) expect(existsSync(dir), dir).toBe(false);
    } finally {
      demo.kill();
    }
  });

  it('fails in one line naming a --port that is taken, with exit 1, after stopping what it started', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((resolve, reject) => holder.once('error', reject).listen({ host: '127.0.0.1', port }, resolve));
    try {
      const { code, stdout, stderr } = await runCli(['demo', '--duration', '5s', '--port', String(port)], {}, 60_000);
      const output = `${stdout}\n--- stderr ---\n${stderr}`;
      expect(code, output).toBe(1);
      expect(stderr.trim(), output).toBe(
        `hms-sync demo: port ${port} on 127.0.0.1 is already in use; choose another with --port (e.g. hms-sync demo --port ${port + 1})`,
      );
      expect(stdout).not.toMatch(/^ {2}console /m);
      expect(stdout).toMatch(/^stopped: bridge drained, nats-server stopped, PostgreSQL stopped, temp dirs removed$/m);
      const postgresPid = Number(match(stdout, /^ {2}PostgreSQL .* pid (\d+)\s+(\S+)$/m, 'PostgreSQL line')[1]);
      const natsPid = Number(match(stdout, /^ {2}nats-server .* pid (\d+)\s+(\S+)$/m, 'nats-server line')[1]);
      expect(isAlive(postgresPid), `postmaster ${postgresPid}`).toBe(false);
      expect(isAlive(natsPid), `nats-server ${natsPid}`).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('refuses a bad --duration with exit 2 and names the flag', async () => {
    const { code, stderr } = await runCli(['demo', '--duration', '20'], {}, 30_000);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--duration 20: expected a duration such as 30s/);
  });
});
