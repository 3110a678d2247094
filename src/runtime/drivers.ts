/**
 * Oracle and SQL Server modules are loaded only for a config that has such a source: their
 * drivers (oracledb, mssql with tedious) cost ~40 MB of memory in every bridge otherwise.
 * `loadDrivers(kind)` runs before anything asks for them (chooseCaptureMethod, at the start of
 * each attempt, and doctor through it); the getters then hand them out synchronously.
 */
import { HmsSyncError } from '../errors.ts';

type OracleCapture = typeof import('../../capture/oracle/index.ts');
type MssqlCapture = typeof import('../../capture/mssql/index.ts');
type OracleDialect = typeof import('../../capture/poll/dialects/oracle.ts');
type MssqlDialect = typeof import('../../capture/poll/dialects/mssql.ts');

let oracle: { capture: OracleCapture; dialect: OracleDialect } | undefined;
let mssql: { capture: MssqlCapture; dialect: MssqlDialect } | undefined;

export async function loadDrivers(kind: string): Promise<void> {
  if (kind === 'oracle' && oracle === undefined) {
    const [capture, dialect] = await Promise.all([import('../../capture/oracle/index.ts'), import('../../capture/poll/dialects/oracle.ts')]);
    oracle = { capture, dialect };
  } else if (kind === 'mssql' && mssql === undefined) {
    const [capture, dialect] = await Promise.all([import('../../capture/mssql/index.ts'), import('../../capture/poll/dialects/mssql.ts')]);
    mssql = { capture, dialect };
  }
}

function notLoaded(kind: string): never {
  throw new HmsSyncError('INTERNAL', `the ${kind} capture module was used before loadDrivers("${kind}")`);
}

export function oracleModules(): { capture: OracleCapture; dialect: OracleDialect } {
  return oracle ?? notLoaded('oracle');
}

export function mssqlModules(): { capture: MssqlCapture; dialect: MssqlDialect } {
  return mssql ?? notLoaded('mssql');
}
