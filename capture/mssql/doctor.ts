import type sql from 'mssql';
import { errorMessage } from '../../src/errors.ts';
import type { Mapping } from '../../src/mapping/types.ts';
import { resolveKeyColumns } from '../shared-catalog.ts';
import { runDoctor, type DoctorReport } from '../shared-doctor.ts';
import { loadCaptureInstances, loadTables } from './catalog.ts';
import { changeFunction } from './cdc.ts';
import { classifyMssqlError, connectMssql, describeServer, quoteIdent, quoteLiteral, quoteTable } from './connection.ts';

/** The statements that turn CDC on for the database and for one table (sp_cdc_enable_db needs sysadmin, sp_cdc_enable_table db_owner). */
export function enableCdcSql(database: string, tables: Array<{ schema: string; name: string }>, databaseEnabled: boolean): string[] {
  return [
    ...(databaseEnabled ? [] : [`USE ${quoteIdent(database)}; EXEC sys.sp_cdc_enable_db;`]),
    ...tables.map(
      (t) =>
        `EXEC sys.sp_cdc_enable_table @source_schema = ${quoteLiteral(t.schema)}, @source_name = ${quoteLiteral(t.name)}, @role_name = NULL, @supports_net_changes = 0;`,
    ),
  ];
}

async function rows<T>(pool: sql.ConnectionPool, text: string): Promise<T[] | undefined> {
  try {
    return (await pool.request().query<T>(text)).recordset;
  } catch {
    return undefined;
  }
}

/**
 * What `hms-sync doctor` says about a SQL Server source: can it connect, is CDC on for the
 * database and every mapped table, does SQL Server Agent run the capture job, and may the
 * account read the tables and their change functions. Reads only.
 */
export async function diagnoseMssql(options: { url: string; mappings: Mapping[] }): Promise<DoctorReport> {
  const where = describeServer(options.url);
  return runDoctor(where, { connect: () => connectMssql(options.url, where), close: (pool) => pool.close(), classify: (error) => classifyMssqlError(error, where) }, async (pool, { lines, sql }) => {
    const [info] = (await rows<{ login: string; db_user: string; db: string; version: string; edition: string; cdc: boolean }>(
      pool,
      `SELECT SUSER_SNAME() AS login, USER_NAME() AS db_user, DB_NAME() AS db, CAST(SERVERPROPERTY('ProductVersion') AS NVARCHAR(64)) AS version,
              CAST(SERVERPROPERTY('Edition') AS NVARCHAR(128)) AS edition, (SELECT is_cdc_enabled FROM sys.databases WHERE name = DB_NAME()) AS cdc`,
    )) ?? [];
    if (!info) throw new Error('cannot read the server properties');
    lines.push(`ok   connected as ${info.login} (user ${info.db_user} in ${info.db}; SQL Server ${info.version}, ${info.edition})`);
    let logPossible = true;
    if (info.cdc) lines.push(`ok   CDC is enabled on database ${info.db}`);
    else {
      logPossible = false;
      lines.push(`FAIL CDC is not enabled on database ${info.db}`);
    }
    if (/express/i.test(info.edition)) {
      logPossible = false;
      lines.push('FAIL Express edition: no SQL Server Agent, so no CDC capture job fills the change tables');
    }
    const agent = await rows<{ status_desc: string }>(pool, `SELECT status_desc FROM sys.dm_server_services WHERE servicename LIKE N'SQL Server Agent%'`);
    if (agent?.[0]) {
      if (agent[0].status_desc === 'Running') lines.push('ok   SQL Server Agent runs (it runs the CDC capture job)');
      else {
        logPossible = false;
        lines.push(`FAIL SQL Server Agent is ${agent[0].status_desc}: the CDC capture job does not run (containers: MSSQL_AGENT_ENABLED=true)`);
      }
    } else lines.push('note cannot see whether SQL Server Agent runs (needs VIEW SERVER STATE); the CDC capture job needs it');
    const retention = await rows<{ retention: number }>(pool, `SELECT retention FROM msdb.dbo.cdc_jobs WHERE job_type = N'cleanup' AND database_id = DB_ID()`);
    if (retention?.[0]) {
      lines.push(`note CDC keeps changes ${(retention[0].retention / 1440).toFixed(1)} days: a bridge down longer than that must take a new snapshot`);
    }

    let tables;
    try {
      tables = await loadTables(pool, options.mappings, where);
    } catch (error) {
      // Nothing more can be checked: the report ends with this error and the grants that may fix it.
      for (const m of options.mappings) sql.push(`GRANT SELECT ON ${quoteTable(m.schema, m.tableName)} TO ${quoteIdent(info.db_user)};`);
      throw error;
    }
    const instances = info.cdc ? await loadCaptureInstances(pool, tables.values()).catch(() => undefined) : new Map();
    if (info.cdc && !instances) {
      logPossible = false;
      lines.push(`FAIL ${info.db_user} may not read cdc.change_tables`);
      sql.push(`GRANT SELECT ON SCHEMA::cdc TO ${quoteIdent(info.db_user)};  -- or make the user a member of each capture instance's gating role`);
    }
    const roles = new Map(
      ((await rows<{ capture_instance: string; role_name: string | null }>(pool, 'SELECT capture_instance, role_name FROM cdc.change_tables')) ?? []).map((r) => [r.capture_instance, r.role_name]),
    );
    const untracked: Array<{ schema: string; name: string }> = [];
    for (const mapping of options.mappings) {
      const table = tables.get(mapping.table)!;
      const q = quoteTable(table.schema, table.name);
      if (!(await rows(pool, `SELECT TOP (0) 1 AS x FROM ${q}`))) {
        logPossible = false;
        lines.push(`FAIL no SELECT on ${mapping.table}`);
        sql.push(`GRANT SELECT ON ${q} TO ${quoteIdent(info.db_user)};`);
        continue;
      }
      const instance = instances?.get(mapping.table);
      if (!instance) {
        if (info.cdc && instances) {
          logPossible = false;
          lines.push(`FAIL CDC is not enabled on ${mapping.table}`);
        }
        untracked.push(table);
        continue;
      }
      const readable = await rows(
        pool,
        `SELECT TOP (0) * FROM ${changeFunction(instance.name)}(sys.fn_cdc_get_min_lsn(${quoteLiteral(instance.name)}), sys.fn_cdc_get_max_lsn(), N'all update old')`,
      );
      if (!readable) {
        logPossible = false;
        const role = roles.get(instance.name);
        lines.push(`FAIL ${info.db_user} may not read the changes of ${mapping.table} (capture instance ${instance.name})`);
        sql.push(role ? `ALTER ROLE ${quoteIdent(role)} ADD MEMBER ${quoteIdent(info.db_user)};` : `GRANT SELECT ON SCHEMA::cdc TO ${quoteIdent(info.db_user)};`);
        continue;
      }
      try {
        const key = resolveKeyColumns(mapping, table);
        const missing = key.filter((k) => !instance.columns.includes(k));
        if (missing.length > 0) {
          logPossible = false;
          lines.push(`FAIL capture instance ${instance.name} does not capture the key columns ${missing.join(', ')}`);
          continue;
        }
        const uncaptured = table.columns.filter((c) => !instance.columns.includes(c.name)).map((c) => c.name);
        lines.push(
          `ok   ${mapping.table}: CDC capture instance ${instance.name}, key ${key.join(', ')}${uncaptured.length > 0 ? `; not captured: ${uncaptured.join(', ')}` : ''}`,
        );
      } catch (error) {
        logPossible = false;
        lines.push(`FAIL ${errorMessage(error)}`);
      }
    }
    sql.push(...enableCdcSql(info.db, untracked, Boolean(info.cdc)));
    lines.push('note the bridge writes nothing to the database and creates no object there');
    return logPossible;
  });
}
