/**
 * bin/hms-sync.js's first line gives node an 8 MB young-generation semi-space, a fixed old
 * generation growing factor and a garbage collector that runs on the main thread only (the
 * bridge's memory and CPU figures in docs/benchmarks.md depend on them). This runs the file as a program, the way
 * `hms-sync`, `npx hms-sync` and the image's entrypoint do, with a preloaded module that
 * reports node's flags and how large the young generation grows under allocation, then exits
 * before the CLI starts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { projectPath } from '../../../src/project-path.ts';

const dir = mkdtempSync(join(tmpdir(), 'hms-sync-node-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROBE = `
import v8 from 'node:v8';
const kept = [];
let youngMb = 0;
for (let i = 0; i < 2_000_000; i++) {
  const o = { i, s: 'row ' + i, a: [i, i] };
  if (i % 10 === 0) kept.push(o);
  if (kept.length > 20_000) kept.splice(0, 10_000);
  if (i % 50_000 === 0) {
    const young = v8.getHeapSpaceStatistics().filter((s) => s.space_name === 'new_space').reduce((n, s) => n + s.physical_space_size, 0);
    youngMb = Math.max(youngMb, young / 1048576);
  }
}
process.stdout.write(JSON.stringify({ execArgv: process.execArgv, youngMb }));
process.exit(0);
`;

const probeFile = join(dir, 'probe.mjs');
writeFileSync(probeFile, PROBE);

function probe(command: string, args: string[]): { execArgv: string[]; youngMb: number } {
  const out = execFileSync(command, args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NODE_OPTIONS: `--import=${pathToFileURL(probeFile).href}` },
  });
  return JSON.parse(out) as { execArgv: string[]; youngMb: number };
}

describe('the CLI node flags', () => {
  it('running bin/hms-sync.js as a program caps the young generation at 8 MB semi-spaces, fixes the old generation growth and keeps the collector on the main thread', () => {
    const cli = probe(projectPath('bin/hms-sync.js'), ['--help']);
    expect(cli.execArgv).toEqual(expect.arrayContaining(['--max-semi-space-size=8', '--heap-growing-percent=100', '--single-threaded-gc']));
    expect(cli.youngMb).toBeLessThanOrEqual(16);
  });

  it('node bin/hms-sync.js runs with node defaults (the documented way to leave the flag out)', () => {
    const plain = probe(process.execPath, [projectPath('bin/hms-sync.js'), '--help']);
    expect(plain.execArgv).not.toContain('--max-semi-space-size=8');
    expect(plain.execArgv).not.toContain('--heap-growing-percent=100');
    expect(plain.execArgv).not.toContain('--single-threaded-gc');
    // The same allocation grows node's default young generation past 16 MB (so the first
    // test's bound means something).
    expect(plain.youngMb).toBeGreaterThan(16);
  });
});
