// `hms-sync demo`, the README's first command, run as a user runs it: a child process that starts
// its own PostgreSQL and nats-server, shows changes flowing, and leaves nothing behind.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/bridge.ts';
import { isAlive } from '../../support/process.ts';

const ENTITIES = ['bridge_inspection', 'crew', 'court_hearing'];

function match(output: string, pattern: RegExp, what: string): RegExpMatchArray {
  const found = pattern.exec(output);
  if (!found) throw new Error(`the demo's output shows no ${what} (${pattern}); output:\n${output}`);
  return found;
}

describe('hms-sync demo', () => {
  it('shows snapshot rows, c/u/d envelopes of all three entities, a dead letter and latency, then stops cleanly', { timeout: 150_000 }, async () => {
    const { code, stdout, stderr } = await runCli(['demo', '--duration', '20s'], {}, 120_000);
    const output = `${stdout}\n--- stderr ---\n${stderr}`;
    expect(code, output).toBe(0);

    const postgresPid = Number(match(stdout, /^ {2}PostgreSQL [\d.]+\s+127\.0\.0\.1:\d+\s+pid (\d+)\s+(\S+)$/m, 'PostgreSQL line')[1]);
    const postgresDir = match(stdout, /^ {2}PostgreSQL .* pid \d+\s+(\S+)$/m, 'PostgreSQL dir')[1]!;
    const natsPid = Number(match(stdout, /^ {2}nats-server\s+127\.0\.0\.1:\d+\s+pid (\d+)\s+(\S+)$/m, 'nats-server line')[1]);
    const natsDir = match(stdout, /^ {2}nats-server .* pid \d+\s+(\S+)$/m, 'nats-server dir')[1]!;
    const configFile = match(stdout, /config (\S+\/hms-sync\.yaml)$/m, 'config file')[1]!;
    expect(stdout).toMatch(/--port 8080 .*later version/);

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
    expect(stdout).toMatch(/^stopped: bridge drained, nats-server stopped, PostgreSQL stopped, temp dirs removed$/m);

    // Nothing left behind: the servers are gone and so are their dirs and the config's.
    expect(isAlive(postgresPid), `postmaster ${postgresPid}`).toBe(false);
    expect(isAlive(natsPid), `nats-server ${natsPid}`).toBe(false);
    for (const dir of [postgresDir, natsDir, dirname(configFile)]) expect(existsSync(dir), dir).toBe(false);
  });

  it('refuses a bad --duration with exit 2 and names the flag', async () => {
    const { code, stderr } = await runCli(['demo', '--duration', '20'], {}, 30_000);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--duration 20: expected a duration such as 30s/);
  });
});
