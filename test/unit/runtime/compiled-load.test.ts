// bin/load.js: the CLI runs dist/js only while it is a build of the sources as they are.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compiledIsCurrent } from '../../../bin/load.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function packageWithSources(): string {
  const root = mkdtempSync(join(tmpdir(), 'hms-sync-load-'));
  dirs.push(root);
  for (const dir of ['src/cli', 'capture/postgres', 'reconcile']) mkdirSync(join(root, dir), { recursive: true });
  for (const file of ['src/cli/main.ts', 'capture/postgres/wal.ts', 'reconcile/run.ts']) writeFileSync(join(root, file), 'export {};\n');
  return root;
}

function setMtime(path: string, ms: number): void {
  utimesSync(path, ms / 1000, ms / 1000);
}

function build(root: string, started: number): void {
  mkdirSync(join(root, 'dist', 'js'), { recursive: true });
  writeFileSync(join(root, 'dist', 'js', 'BUILD'), JSON.stringify({ started }));
}

describe('compiledIsCurrent', () => {
  it('is false without a build, true after one, false again once any source changes', () => {
    const root = packageWithSources();
    const before = Date.now() - 60_000;
    for (const file of ['src/cli/main.ts', 'capture/postgres/wal.ts', 'reconcile/run.ts']) setMtime(join(root, file), before);
    expect(compiledIsCurrent(root)).toBe(false);
    build(root, before + 1_000);
    expect(compiledIsCurrent(root)).toBe(true);
    // An edit deep in capture/ after the build: the sources run, not the stale copy.
    setMtime(join(root, 'capture/postgres/wal.ts'), before + 2_000);
    expect(compiledIsCurrent(root)).toBe(false);
  });

  it('is false for a BUILD file it cannot read, and with HMS_SYNC_FROM_SOURCE=1', () => {
    const root = packageWithSources();
    for (const file of ['src/cli/main.ts', 'capture/postgres/wal.ts', 'reconcile/run.ts']) setMtime(join(root, file), Date.now() - 60_000);
    mkdirSync(join(root, 'dist', 'js'), { recursive: true });
    writeFileSync(join(root, 'dist', 'js', 'BUILD'), 'not json');
    expect(compiledIsCurrent(root)).toBe(false);
    build(root, Date.now());
    expect(compiledIsCurrent(root)).toBe(true);
    process.env.HMS_SYNC_FROM_SOURCE = '1';
    try {
      expect(compiledIsCurrent(root)).toBe(false);
    } finally {
      delete process.env.HMS_SYNC_FROM_SOURCE;
    }
  });
});
