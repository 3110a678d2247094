import type mysql from 'mysql2/promise';
import { errorMessage } from '../../src/errors.ts';
import type { Mapping } from '../../src/mapping/types.ts';
import { loadTables, resolveKeyColumns } from './catalog.ts';
import { classifyMysqlError, connectMysql, describeServer, quoteTable } from './connection.ts';
import { lostServer, runDoctor, type DoctorReport } from '../shared-doctor.ts';
import { POLLING_NOT_BUILT, binlogProblems, readGrants, readServerSettings, replicationGrants } from './settings.ts';
import { currentBinlogPoint } from './snapshot.ts';

/** 'user@host' from CURRENT_USER() -> `'user'@'host'` for GRANT statements. */
function account(currentUser: string): string {
  const at = currentUser.lastIndexOf('@');
  const user = at < 0 ? currentUser : currentUser.slice(0, at);
  const host = at < 0 ? '%' : currentUser.slice(at + 1);
  return `'${user.replace(/'/g, "''")}'@'${host.replace(/'/g, "''")}'`;
}

/**
 * What `hms-sync doctor` says about a MySQL / MariaDB source: can it connect, is the binlog
 * usable for row capture, may the account read it and every mapped table. Reads only.
 */
export async function diagnoseMysql(options: { url: string; mappings: Mapping[] }): Promise<DoctorReport> {
  const where = describeServer(options.url);
  const session = {
    connect: () => connectMysql(options.url, where),
    close: (connection: mysql.Connection) => connection.end(),
    classify: (error: unknown) => classifyMysqlError(error, where),
  };
  return runDoctor(where, session, async (connection, { lines, sql }) => {
    const settings = await readServerSettings(connection);
    const who = account(settings.user);
    lines.push(`ok   connected as ${settings.user} (${settings.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${settings.version})`);
    let logPossible = true;
    const problems = binlogProblems(settings);
    for (const problem of problems) lines.push(`FAIL ${problem}`);
    if (problems.length > 0) {
      logPossible = false;
      lines.push(`note ${POLLING_NOT_BUILT}`);
      if (!settings.logBin) sql.push('-- in the server config: log_bin = ON, binlog_format = ROW, binlog_row_image = FULL; then restart');
      if (settings.logBin && settings.binlogFormat !== 'ROW') sql.push("SET GLOBAL binlog_format = 'ROW';  -- and binlog_format = ROW in the server config");
      if (settings.logBin && settings.binlogRowImage !== 'FULL') sql.push("SET GLOBAL binlog_row_image = 'FULL';  -- and binlog_row_image = FULL in the server config");
    } else {
      lines.push(`ok   binlog on, binlog_format = ROW, binlog_row_image = FULL`);
    }
    if (settings.rowMetadata === 'FULL') lines.push('ok   binlog_row_metadata = FULL: column names come from the binlog itself');
    else {
      lines.push(
        `note binlog_row_metadata = ${settings.rowMetadata}: column names come from information_schema, so a change logged before an ` +
          `ALTER TABLE and read after it may be dead-lettered; FULL avoids that`,
      );
      if (settings.rowMetadata !== 'UNAVAILABLE') sql.push("SET GLOBAL binlog_row_metadata = 'FULL';  -- and binlog_row_metadata = FULL in the server config");
    }
    if (settings.flavor === 'mysql') lines.push(`note gtid_mode = ${settings.gtidMode ?? 'unknown'}; the bridge resumes by binlog file:pos on MySQL`);
    else lines.push('ok   GTIDs: the bridge resumes by GTID position');
    if (settings.retentionSeconds !== undefined) {
      lines.push(
        settings.retentionSeconds === 0
          ? 'note binlogs are kept until purged by hand'
          : `note binlogs are kept ${(settings.retentionSeconds / 86_400).toFixed(1)} days: a bridge down longer than that must take a new snapshot`,
      );
    }

    const replication = replicationGrants(await readGrants(connection));
    let client: boolean;
    try {
      await currentBinlogPoint(connection, settings.flavor);
      client = true;
    } catch (error) {
      if (lostServer(session.classify(error))) throw error; // not a missing privilege
      client = false;
    }
    if (replication === undefined) lines.push('note privileges come through a role: REPLICATION SLAVE is checked when the binlog is read');
    const missing = [...(replication === undefined || replication.slave ? [] : ['REPLICATION SLAVE']), ...(client ? [] : ['REPLICATION CLIENT'])];
    if (missing.length > 0) {
      logPossible = false;
      lines.push(`FAIL ${settings.user} lacks ${missing.join(' and ')} (needed to read the binlog and its positions)`);
      sql.push(`GRANT ${missing.join(', ')} ON *.* TO ${who};`);
    } else lines.push('ok   REPLICATION SLAVE and REPLICATION CLIENT granted');

    let tables;
    try {
      tables = await loadTables(connection, options.mappings, where);
    } catch (error) {
      if (lostServer(session.classify(error))) throw error;
      lines.push(`FAIL ${errorMessage(error)}`);
      const schemas = [...new Set(options.mappings.map((m) => m.schema))];
      for (const schema of schemas) sql.push(`GRANT SELECT ON \`${schema}\`.* TO ${who};`);
      return false;
    }
    for (const mapping of options.mappings) {
      const table = tables.get(mapping.table)!;
      try {
        await connection.query(`SELECT 1 FROM ${quoteTable(table.schema, table.name)} LIMIT 0`);
      } catch (error) {
        if (lostServer(session.classify(error))) throw error;
        logPossible = false;
        lines.push(`FAIL no SELECT on ${mapping.table}: ${errorMessage(error)}`);
        sql.push(`GRANT SELECT ON ${quoteTable(table.schema, table.name)} TO ${who};`);
        continue;
      }
      try {
        const key = resolveKeyColumns(mapping, table);
        lines.push(`ok   ${mapping.table}: readable, key ${key.join(', ')}`);
      } catch (error) {
        logPossible = false;
        lines.push(`FAIL ${errorMessage(error)}`);
      }
    }
    lines.push('note the account needs no RELOAD, LOCK TABLES or write privilege: the snapshot takes no lock');
    return logPossible;
  });
}
