#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm install` runs it): compiles src/, capture/ and
// reconcile/ to dist/js/ (what bin/hms-sync.js runs when it is up to date, see bin/load.js)
// and writes the library's type declarations to dist/types/.
// dist/js/BUILD records when the build started: a source changed after that makes the
// compiled copy stale, and the CLI runs the TypeScript sources instead.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const started = Date.now();
rmSync(join(root, 'dist', 'js'), { recursive: true, force: true });
for (const project of ['tsconfig.build.json', 'tsconfig.lib.json']) {
  try {
    execFileSync(process.execPath, [tsc, '-p', join(root, project)], { cwd: root, stdio: 'inherit' });
  } catch {
    // tsc printed the errors; leave no half-built copy for the CLI to run.
    rmSync(join(root, 'dist', 'js'), { recursive: true, force: true });
    console.error(`build: tsc -p ${project} failed`);
    process.exit(1);
  }
}
mkdirSync(join(root, 'dist', 'js'), { recursive: true });
writeFileSync(join(root, 'dist', 'js', 'BUILD'), `${JSON.stringify({ started })}\n`);
console.log(`build: dist/js and dist/types written in ${((Date.now() - started) / 1000).toFixed(1)} s`);
