/**
 * src/runtime/drivers.ts promises that the Oracle and SQL Server drivers are loaded only for a
 * config with such a source. Any static import chain from the CLI to them (a helper imported
 * from a module that imports the driver) breaks that silently, so this loads the CLI in a
 * fresh node process and lists the driver packages in its module cache, then loads each
 * driver the way a source of that kind does and checks that it shows up (so the check sees it).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../../src/project-path.ts';

const DRIVERS = ['oracledb', 'mssql', 'tedious'];

function loadedDrivers(kind: string | undefined): string[] {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(projectPath('src/cli/main.ts'))});
    ${kind ? `await (await import(${JSON.stringify(projectPath('src/runtime/drivers.ts'))})).loadDrivers(${JSON.stringify(kind)});` : ''}
    const cache = createRequire(import.meta.url)('node:module')._cache;
    const found = new Set();
    for (const file of Object.keys(cache)) for (const name of ${JSON.stringify(DRIVERS)}) if (file.includes('/node_modules/' + name + '/')) found.add(name);
    process.stdout.write(JSON.stringify([...found].sort()));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: projectPath('.'), encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out) as string[];
}

describe('driver loading', () => {
  it('loading the CLI loads neither the Oracle nor the SQL Server driver', () => {
    expect(loadedDrivers(undefined)).toEqual([]);
  });

  it('an Oracle source loads oracledb only; a SQL Server source loads mssql and tedious only', () => {
    expect(loadedDrivers('oracle')).toEqual(['oracledb']);
    expect(loadedDrivers('mssql')).toEqual(['mssql', 'tedious']);
  });
});
