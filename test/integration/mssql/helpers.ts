// SQL Server 2022 Developer in a container (only where a Docker engine answers), SQL Server
// Agent on (it runs the CDC capture job), a `legacy` database with CDC enabled, and a `reader`
// login with SELECT on dbo and the cdc schema and nothing else.
import { randomBytes } from 'node:crypto';
import { enableCdcSql } from '../../../capture/mssql/doctor.ts';
import { writeBridgeFiles, type BridgeConfigOptions, type BridgeSetup, type Workspace } from '../../support/bridge.ts';
import { dockerAvailable, startMssqlContainer, type MssqlServer } from '../../support/containers.ts';

export { under, waitForStream } from '../mysql/helpers.ts';

export const docker = await dockerAvailable();
export const SKIPPED = docker ? '' : ' (skipped: no Docker engine answers `docker info`; SQL Server runs only in a container here)';

/** SQL Server positions: commit LSN, seqval (20 hex each), index (8 hex). */
export const MSSQL_POSITION = /^[0-9A-F]{20}-[0-9A-F]{20}-[0-9A-F]{8}$/;

export interface LegacyMssql extends AsyncDisposable {
  server: MssqlServer;
  readerUrl: string;
  /** A batch as sa in `legacy`. */
  query<T = Record<string, unknown>>(batch: string): Promise<T[]>;
  /** Creates dbo.<name> and enables CDC on it (the statement doctor prints). */
  createTable(name: string, columns: string, cdc?: boolean): Promise<void>;
}

export async function legacyMssql(): Promise<LegacyMssql> {
  const server = await startMssqlContainer();
  try {
    const password = `Pw1-${randomBytes(8).toString('hex')}`;
    await server.query(`CREATE DATABASE legacy; CREATE LOGIN reader WITH PASSWORD = '${password}', CHECK_POLICY = OFF;`);
    for (const statement of enableCdcSql('legacy', [], false)) await server.query(statement, 'legacy');
    await server.query(`CREATE USER reader FOR LOGIN reader; GRANT SELECT ON SCHEMA::dbo TO reader; GRANT SELECT ON SCHEMA::cdc TO reader;`, 'legacy');
    return {
      server,
      readerUrl: server.url('reader', password, 'legacy'),
      query: (batch) => server.query(batch, 'legacy'),
      async createTable(name, columns, cdc = true) {
        await server.query(`CREATE TABLE dbo.${name} (${columns})`, 'legacy');
        if (cdc) for (const statement of enableCdcSql('legacy', [{ schema: 'dbo', name }], true)) await server.query(statement, 'legacy');
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

export function writeMssqlBridgeFiles(ws: Workspace, options: Omit<BridgeConfigOptions, 'source'> & { source: { name: string; url: string; extra?: string } }): BridgeSetup {
  // The shared helper writes `kind:` as given; its type lists postgres and mysql only.
  return writeBridgeFiles(ws, { ...options, source: { ...options.source, url: `"${options.source.url}"`, kind: 'mssql' } });
}
