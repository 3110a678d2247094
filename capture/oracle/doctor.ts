import type oracledb from 'oracledb';
import { errorMessage } from '../../src/errors.ts';
import type { Mapping } from '../../src/mapping/types.ts';
import { resolveKeyColumns } from '../shared-catalog.ts';
import { runDoctor, type DoctorReport } from '../shared-doctor.ts';
import { loadTables } from './catalog.ts';
import { classifyOracleError, connectOracle, describeServer, queryArrays, quoteIdent, quoteTable } from './connection.ts';

/** The dynamic views LogMiner capture reads (granted on their V_$ names). */
export const LOGMINER_VIEWS = ['V_$DATABASE', 'V_$LOG', 'V_$LOGFILE', 'V_$ARCHIVED_LOG', 'V_$LOGMNR_CONTENTS', 'V_$LOGMNR_LOGS', 'V_$TRANSACTION'] as const;

/** The grants log capture needs, for `user`, and the table-level ones for each mapped table. */
export function logminerGrants(user: string, tables: Array<{ owner: string; name: string }>): string[] {
  const u = quoteIdent(user);
  return [
    `GRANT CREATE SESSION, LOGMINING, SELECT ANY TRANSACTION TO ${u};`,
    `GRANT EXECUTE ON SYS.DBMS_LOGMNR TO ${u};`,
    ...LOGMINER_VIEWS.map((v) => `GRANT SELECT ON SYS.${v} TO ${u};`),
    ...tables.map((t) => `GRANT SELECT, FLASHBACK ON ${quoteTable(t.owner, t.name)} TO ${u};`),
  ];
}

export function supplementalLoggingSql(tables: Array<{ owner: string; name: string }>, databaseMin: boolean): string[] {
  return [
    ...(databaseMin ? [] : ['ALTER DATABASE ADD SUPPLEMENTAL LOG DATA;  -- in CDB$ROOT (or the non-CDB database), as SYSDBA']),
    ...tables.map((t) => `ALTER TABLE ${quoteTable(t.owner, t.name)} ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;`),
  ];
}

async function works(connection: oracledb.Connection, sql: string): Promise<boolean> {
  try {
    await connection.execute(sql);
    return true;
  } catch {
    return false;
  }
}

/**
 * What `hms-sync doctor` says about an Oracle source: can it connect, is supplemental logging
 * on, may the account run LogMiner and read the mapped tables AS OF an SCN. Reads only.
 */
export async function diagnoseOracle(options: { url: string; mappings: Mapping[] }): Promise<DoctorReport> {
  const where = describeServer(options.url);
  return runDoctor(where, { connect: () => connectOracle(options.url, where), close: (connection) => connection.close(), classify: (error) => classifyOracleError(error, where) }, async (connection, { lines, sql }) => {
    const [user, container, version] = (
      await queryArrays<[string, string, string]>(
        connection,
        `SELECT USER, SYS_CONTEXT('USERENV', 'CON_NAME'), (SELECT VERSION_FULL FROM PRODUCT_COMPONENT_VERSION WHERE ROWNUM = 1) FROM DUAL`,
      ).catch(() => queryArrays<[string, string, string]>(connection, `SELECT USER, SYS_CONTEXT('USERENV', 'CON_NAME'), '?' FROM DUAL`))
    )[0]!;
    lines.push(`ok   connected as ${user} to ${container} (Oracle ${version})`);
    let logPossible = true;
    const grants: string[] = [];

    const database = await queryArrays<[string, string, string, string, string]>(
      connection,
      'SELECT LOG_MODE, SUPPLEMENTAL_LOG_DATA_MIN, SUPPLEMENTAL_LOG_DATA_PK, SUPPLEMENTAL_LOG_DATA_ALL, CDB FROM V$DATABASE',
    ).catch(() => undefined);
    let dbMin = false;
    let dbKeyed = false;
    if (!database?.[0]) {
      logPossible = false;
      lines.push(`FAIL ${user} may not read V$DATABASE (needed for SCNs and the log settings)`);
    } else {
      const [logMode, min, pk, all, cdb] = database[0];
      dbMin = min === 'YES' || min === 'IMPLICIT';
      dbKeyed = pk === 'YES' || all === 'YES';
      if (dbMin) lines.push(`ok   supplemental logging on (minimal: ${min}, primary key: ${pk}, all columns: ${all})`);
      else {
        logPossible = false;
        lines.push('FAIL supplemental logging is off: LogMiner cannot see whole changes');
      }
      if (logMode === 'ARCHIVELOG') lines.push('ok   ARCHIVELOG mode: redo is archived, so a stopped bridge can catch up');
      else {
        lines.push('note NOARCHIVELOG mode: online redo is overwritten, so a bridge stopped for longer than a log switch cycle must take a new snapshot');
        sql.push('-- as SYSDBA: SHUTDOWN IMMEDIATE; STARTUP MOUNT; ALTER DATABASE ARCHIVELOG; ALTER DATABASE OPEN;');
      }
      if (cdb === 'YES' && container !== 'CDB$ROOT') {
        lines.push(`note ${container} is a pluggable database: LogMiner runs per PDB (Oracle 21c and later; 19c needs a common user in CDB$ROOT)`);
      }
    }

    const privileges = new Set((await queryArrays<[string]>(connection, 'SELECT PRIVILEGE FROM SESSION_PRIVS').catch(() => [])).map(([p]) => p));
    if (!privileges.has('LOGMINING')) {
      logPossible = false;
      lines.push(`FAIL ${user} lacks the LOGMINING privilege`);
    }
    const views: Array<[string, string]> = [
      ['V$TRANSACTION', 'SELECT 1 FROM V$TRANSACTION WHERE 1 = 0'],
      ['V$LOGMNR_CONTENTS', 'SELECT 1 FROM V$LOGMNR_CONTENTS WHERE 1 = 0'],
      ['V$LOG', 'SELECT 1 FROM V$LOG WHERE 1 = 0'],
      ['V$ARCHIVED_LOG', 'SELECT 1 FROM V$ARCHIVED_LOG WHERE 1 = 0'],
    ];
    const unreadable: string[] = [];
    for (const [view, statement] of views) {
      // V$LOGMNR_CONTENTS answers ORA-01306 (no LogMiner session) when it may be read at all.
      if (!(await works(connection, statement)) && !(view === 'V$LOGMNR_CONTENTS' && (await logmnrContentsGranted(connection)))) unreadable.push(view);
    }
    if (unreadable.length > 0) {
      logPossible = false;
      lines.push(`FAIL ${user} may not read ${unreadable.join(', ')}`);
    }
    const executes = (
      await queryArrays<[string]>(connection, `SELECT TO_CHAR(COUNT(*)) FROM ALL_OBJECTS WHERE OWNER = 'SYS' AND OBJECT_NAME = 'DBMS_LOGMNR'`).catch(() => [['0']])
    )[0]![0];
    if (executes === '0') {
      logPossible = false;
      lines.push(`FAIL ${user} may not execute DBMS_LOGMNR`);
    }
    if (!logPossible && (unreadable.length > 0 || executes === '0' || !privileges.has('LOGMINING'))) grants.push('logminer');

    let tables;
    try {
      tables = await loadTables(connection, options.mappings, where);
    } catch (error) {
      // Nothing more can be checked: the report ends with this error and the grants that may fix it.
      sql.push(...logminerGrants(user, options.mappings.map((m) => ({ owner: m.schema, name: m.tableName }))));
      throw error;
    }
    const scn = (await queryArrays<[string]>(connection, 'SELECT TO_CHAR(CURRENT_SCN) FROM V$DATABASE').catch(() => []))[0]?.[0];
    const groups = await queryArrays<[string, string, string]>(
      connection,
      `SELECT OWNER, TABLE_NAME, LOG_GROUP_TYPE FROM ALL_LOG_GROUPS WHERE LOG_GROUP_TYPE IN ('ALL COLUMN LOGGING', 'PRIMARY KEY LOGGING')`,
    ).catch(() => []);
    const unlogged: Array<{ owner: string; name: string }> = [];
    const unreadTables: Array<{ owner: string; name: string }> = [];
    for (const mapping of options.mappings) {
      const table = tables.get(mapping.table)!;
      const q = quoteTable(table.owner, table.name);
      if (!(await works(connection, `SELECT 1 FROM ${q} WHERE 1 = 0`))) {
        logPossible = false;
        unreadTables.push(table);
        lines.push(`FAIL no SELECT on ${mapping.table}`);
        continue;
      }
      if (scn !== undefined && !(await works(connection, `SELECT 1 FROM ${q} AS OF SCN ${scn} WHERE 1 = 0`))) {
        logPossible = false;
        unreadTables.push(table);
        lines.push(`FAIL no FLASHBACK on ${mapping.table} (the snapshot and LOB values are read AS OF an SCN)`);
        continue;
      }
      const logged = groups.some(([owner, name]) => owner === table.owner && name === table.name);
      const all = groups.some(([owner, name, type]) => owner === table.owner && name === table.name && type === 'ALL COLUMN LOGGING');
      if (!logged && !dbKeyed) {
        logPossible = false;
        unlogged.push(table);
        lines.push(`FAIL ${mapping.table}: no supplemental logging of its key columns: updates would come without their key`);
        continue;
      }
      if (!all) {
        unlogged.push(table);
        lines.push(`note ${mapping.table}: without ALL COLUMNS supplemental logging, updates carry no before image and unchanged columns are read back AS OF the commit SCN`);
      }
      try {
        const key = resolveKeyColumns(mapping, table);
        const lobs = table.columns.filter((c) => c.lob).map((c) => c.name);
        lines.push(`ok   ${mapping.table}: readable AS OF an SCN, key ${key.join(', ')}${lobs.length > 0 ? `; LOB columns ${lobs.join(', ')} are read back by key` : ''}`);
      } catch (error) {
        logPossible = false;
        lines.push(`FAIL ${errorMessage(error)}`);
      }
    }
    sql.push(...supplementalLoggingSql(unlogged, dbMin));
    if (grants.length > 0) sql.push(...logminerGrants(user, unreadTables));
    else for (const t of unreadTables) sql.push(`GRANT SELECT, FLASHBACK ON ${quoteTable(t.owner, t.name)} TO ${quoteIdent(user)};`);
    lines.push('note the bridge writes nothing to the database and creates no object there');
    return logPossible;
  });
}

async function logmnrContentsGranted(connection: oracledb.Connection): Promise<boolean> {
  try {
    await connection.execute('SELECT 1 FROM V$LOGMNR_CONTENTS WHERE 1 = 0');
    return true;
  } catch (error) {
    return /ORA-01306/.test(errorMessage(error));
  }
}
