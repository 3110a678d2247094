/**
 * Files that ship beside the code (the console's static page, the demo's mappings) are found
 * from the package root, so the TypeScript sources and their compiled copy in dist/js
 * (bin/load.js) read the same files.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`hms-sync: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

const ROOT = findRoot();

/** A path inside the package: projectPath('mappings', 'demo'). */
export function projectPath(...parts: string[]): string {
  return join(ROOT, ...parts);
}
