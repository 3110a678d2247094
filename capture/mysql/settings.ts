import type mysql from 'mysql2/promise';
import { queryRows } from './connection.ts';
import type { Flavor } from './snapshot.ts';

export interface ServerSettings {
  version: string;
  flavor: Flavor;
  user: string;
  serverId: string;
  logBin: boolean;
  binlogFormat: string;
  binlogRowImage: string;
  /** NO_LOG / MINIMAL / FULL, or 'unavailable' on servers without the setting (MariaDB < 10.5, MySQL < 8.0.1). */
  rowMetadata: string;
  /** MySQL gtid_mode (OFF … ON); MariaDB always has GTIDs. */
  gtidMode?: string;
  /** Binlog retention in seconds, where the server says (0: kept until purged by hand). */
  retentionSeconds?: number;
}

async function variable(connection: mysql.Connection, name: string): Promise<string | undefined> {
  const rows = await queryRows<{ v: string | null }>(connection, `SELECT @@GLOBAL.${name} AS v`).catch(() => []);
  const value = rows[0]?.v;
  return value === null || value === undefined ? undefined : value;
}

/** The global settings that decide whether row capture works (sessions inherit them). */
export async function readServerSettings(connection: mysql.Connection): Promise<ServerSettings> {
  const row = (
    await queryRows<{ version: string; usr: string; server_id: string; log_bin: string; binlog_format: string; binlog_row_image: string }>(
      connection,
      `SELECT VERSION() AS version, CURRENT_USER() AS usr, @@GLOBAL.server_id AS server_id, @@GLOBAL.log_bin AS log_bin,
              @@GLOBAL.binlog_format AS binlog_format, @@GLOBAL.binlog_row_image AS binlog_row_image`,
    )
  )[0]!;
  const flavor: Flavor = /mariadb/i.test(row.version) ? 'mariadb' : 'mysql';
  const settings: ServerSettings = {
    version: row.version,
    flavor,
    user: row.usr,
    serverId: row.server_id,
    logBin: row.log_bin === '1' || row.log_bin?.toUpperCase() === 'ON',
    binlogFormat: (row.binlog_format ?? '').toUpperCase(),
    binlogRowImage: (row.binlog_row_image ?? '').toUpperCase(),
    rowMetadata: ((await variable(connection, 'binlog_row_metadata')) ?? 'unavailable').toUpperCase(),
  };
  if (flavor === 'mysql') {
    const gtidMode = await variable(connection, 'gtid_mode');
    if (gtidMode !== undefined) settings.gtidMode = gtidMode;
  }
  const seconds = await variable(connection, 'binlog_expire_logs_seconds');
  const days = await variable(connection, 'expire_logs_days');
  if (seconds !== undefined && Number(seconds) > 0) settings.retentionSeconds = Number(seconds);
  else if (days !== undefined) settings.retentionSeconds = Math.round(Number(days) * 86_400);
  return settings;
}

/** What stops row capture, each with the statement or option a DBA needs. Empty: fine. */
export function binlogProblems(settings: ServerSettings): string[] {
  const problems: string[] = [];
  if (!settings.logBin) {
    problems.push('binary logging is off; start the server with --log-bin (and --binlog-format=ROW --binlog-row-image=FULL)');
    return problems;
  }
  if (settings.binlogFormat !== 'ROW') {
    problems.push(`binlog_format is ${settings.binlogFormat}; row capture needs ROW (SET GLOBAL binlog_format = 'ROW'; and binlog_format=ROW in the server's config)`);
  }
  if (settings.binlogRowImage !== 'FULL') {
    problems.push(
      `binlog_row_image is ${settings.binlogRowImage}; row capture needs FULL (SET GLOBAL binlog_row_image = 'FULL'; and binlog_row_image=FULL in the server's config)`,
    );
  }
  return problems;
}

export const POLLING_NOT_BUILT = 'the fallback, polling (capture: poll), is not available yet in this build';

/**
 * What the account's own grants (SHOW GRANTS) say about replication. `undefined` where they
 * cannot tell: privileges that come through a role are not listed there.
 */
export function replicationGrants(grants: string[]): { slave: boolean; client: boolean } | undefined {
  const role = /[`'"][^`'"]+[`'"](@[`'"][^`'"]*[`'"])?/.source;
  if (grants.some((g) => new RegExp(`^GRANT\\s+${role}(\\s*,\\s*${role})*\\s+TO\\b`, 'i').test(g))) return undefined;
  const global = grants.filter((g) => /\bON \*\.\* TO\b/i.test(g));
  const all = global.some((g) => /GRANT ALL PRIVILEGES ON/i.test(g));
  return {
    slave: all || global.some((g) => /REPLICATION SLAVE|REPLICATION REPLICA/i.test(g)),
    client: all || global.some((g) => /REPLICATION CLIENT|BINLOG MONITOR|\bSUPER\b/i.test(g)),
  };
}

export async function readGrants(connection: mysql.Connection): Promise<string[]> {
  return (await queryRows<Record<string, string>>(connection, 'SHOW GRANTS')).map((row) => Object.values(row)[0] ?? '');
}
