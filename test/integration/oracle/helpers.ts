// Oracle Database Free in a container (only where a Docker engine answers): a LEGACY schema
// owning the tables, and a READER account with exactly the grants `hms-sync doctor` prints.
import { randomBytes } from 'node:crypto';
import { logminerGrants, supplementalLoggingSql } from '../../../capture/oracle/doctor.ts';
import { writeBridgeFiles, type BridgeConfigOptions, type BridgeSetup, type Workspace } from '../../support/bridge.ts';
import { dockerAvailable, startOracleContainer, type OracleServer } from '../../support/containers.ts';

export { under, waitForStream } from '../mysql/helpers.ts';

export const docker = await dockerAvailable();
export const SKIPPED = docker ? '' : ' (skipped: no Docker engine answers `docker info`; Oracle runs only in a container here)';

/** Oracle positions: commit SCN (20 digits), index (8 hex). */
export const ORACLE_POSITION = /^\d{20}-[0-9A-F]{8}$/;

export interface LegacyOracle extends AsyncDisposable {
  server: OracleServer;
  readerUrl: string;
  /** Statements as SYSTEM in FREEPDB1, committed. */
  execute<T = unknown[]>(statements: string | string[], binds?: unknown[]): Promise<T[]>;
  /** Creates LEGACY.<name>, logs all its columns, grants it to the reader. */
  createTable(name: string, columns: string): Promise<void>;
}

export async function legacyOracle(): Promise<LegacyOracle> {
  const server = await startOracleContainer();
  try {
    const password = `Pw${randomBytes(8).toString('hex')}`;
    // Supplemental logging is a database-wide setting of the CDB root.
    await server.execute('ALTER DATABASE ADD SUPPLEMENTAL LOG DATA', [], 'FREE');
    await server.execute([
      `CREATE USER LEGACY IDENTIFIED BY "${password}" QUOTA UNLIMITED ON USERS`,
      `CREATE USER READER IDENTIFIED BY "${password}"`,
      ...logminerGrants('READER', []).map((g) => g.replace(/;$/, '')),
      // Per-PDB LogMiner (21c and later) also asks for the capture privilege in the PDB.
      `BEGIN DBMS_GOLDENGATE_AUTH.GRANT_ADMIN_PRIV(grantee => 'READER', privilege_type => 'CAPTURE', grant_select_privileges => TRUE); EXCEPTION WHEN OTHERS THEN NULL; END;`,
    ]);
    return {
      server,
      readerUrl: server.url('READER', password),
      execute: (statements, binds) => server.execute(statements, binds),
      async createTable(name, columns) {
        await server.execute([
          `CREATE TABLE LEGACY.${name} (${columns})`,
          ...supplementalLoggingSql([{ owner: 'LEGACY', name }], true).map((s) => s.replace(/;$/, '')),
          ...logminerGrants('READER', [{ owner: 'LEGACY', name }]).slice(-1).map((g) => g.replace(/;$/, '')),
        ]);
      },
      async [Symbol.asyncDispose]() {
        await server[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    await server[Symbol.asyncDispose]();
    throw error;
  }
}

/** writeBridgeFiles for a source of another kind than the shared helper's type names. */
export function writeOracleBridgeFiles(ws: Workspace, options: Omit<BridgeConfigOptions, 'source'> & { source: { name: string; url: string; extra?: string } }): BridgeSetup {
  // The shared helper writes `kind:` as given; its type lists postgres and mysql only.
  return writeBridgeFiles(ws, { ...options, source: { ...options.source, kind: 'oracle' } });
}
