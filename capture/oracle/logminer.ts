/**
 * LogMiner: the SQL that mines committed changes of the mapped tables out of the redo, and the
 * pure functions that turn its rows into RawChanges.
 *
 * Values are read with DBMS_LOGMNR.MINE_VALUE / COLUMN_PRESENT over REDO_VALUE (new values) and
 * UNDO_VALUE (old values), one column at a time, in the same query: no SQL_REDO text is parsed.
 * MINE_VALUE prints values as text in the session's NLS formats (connection.ts fixes them), so
 * values.ts converts them exactly as it converts a snapshot's TO_CHAR text. MINE_VALUE cannot
 * return LOB or LONG columns: those are read back by key AS OF the change's commit SCN
 * (flashback query), so the value is the one the transaction committed, and listed in
 * `source.refetched`.
 *
 * Sessions use the online catalog (DICT_FROM_ONLINE_CATALOG) and COMMITTED_DATA_ONLY:
 * LogMiner returns whole committed transactions, in commit order, each row with its
 * COMMIT_SCN. A transaction is only returned whole when the mined range starts at or before its
 * first change, so every window starts at the oldest start SCN of the transactions that were
 * open when the previous window was cut (`lowWater`), and rows whose commit SCN was already
 * published are skipped.
 */
import type { SourceRow, SourceValue } from '../../src/mapping/types.ts';
import type { RawChange } from '../../src/ports.ts';
import type { OracleTable } from './catalog.ts';
import { quoteIdent, quoteLiteral, quoteTable } from './connection.ts';
import { oraclePosition } from './position.ts';
import { bindExpression, oracleValue, selectExpression, type OracleColumn } from './values.ts';

/** OPERATION_CODE of V$LOGMNR_CONTENTS. */
export const OPERATION = { INSERT: 1, DELETE: 2, UPDATE: 3, DDL: 5 } as const;

/** DBMS_LOGMNR option flags (documented constants). */
export const LOGMNR_OPTIONS = {
  DICT_FROM_ONLINE_CATALOG: 16,
  COMMITTED_DATA_ONLY: 2,
} as const;

/** One mapped table as the miner reads it. */
export interface MinedTable {
  table: OracleTable;
  keyColumns: string[];
}

/** Statements that open and close a LogMiner session. */
export function startLogminerSql(): string {
  return (
    'BEGIN DBMS_LOGMNR.START_LOGMNR(STARTSCN => :1, ENDSCN => :2, ' +
    'OPTIONS => DBMS_LOGMNR.DICT_FROM_ONLINE_CATALOG + DBMS_LOGMNR.COMMITTED_DATA_ONLY); END;'
  );
}

export function addLogfileSql(first: boolean): string {
  return `BEGIN DBMS_LOGMNR.ADD_LOGFILE(LOGFILENAME => :1, OPTIONS => ${first ? 'DBMS_LOGMNR.NEW' : 'DBMS_LOGMNR.ADDFILE'}); END;`;
}

export const END_LOGMINER_SQL = 'BEGIN DBMS_LOGMNR.END_LOGMNR; END;';

/** The current SCN and, separately, the oldest start SCN of the open transactions. */
export const CURRENT_SCN_SQL = 'SELECT TO_CHAR(CURRENT_SCN) FROM V$DATABASE';
export const OLDEST_ACTIVE_SQL = 'SELECT TO_CHAR(MIN(START_SCN)) FROM V$TRANSACTION';

/**
 * Redo log files that may hold changes at or after :1 (CDB root or a non-CDB: LogMiner needs
 * them added by name; in a PDB, START_LOGMNR finds them itself). Online logs first, then
 * archived copies; chooseLogFiles() keeps one file per thread and sequence.
 */
export const LOG_FILES_SQL =
  `SELECT 'ONLINE', f.MEMBER, TO_CHAR(l.THREAD#), TO_CHAR(l.SEQUENCE#), TO_CHAR(l.FIRST_CHANGE#), TO_CHAR(l.NEXT_CHANGE#) ` +
  `FROM V$LOG l JOIN V$LOGFILE f ON f.GROUP# = l.GROUP# ` +
  `WHERE l.STATUS <> 'UNUSED' AND NVL(f.STATUS, 'OK') <> 'INVALID' AND (l.NEXT_CHANGE# IS NULL OR l.NEXT_CHANGE# > :1) ` +
  `UNION ALL ` +
  `SELECT 'ARCHIVED', NAME, TO_CHAR(THREAD#), TO_CHAR(SEQUENCE#), TO_CHAR(FIRST_CHANGE#), TO_CHAR(NEXT_CHANGE#) ` +
  `FROM V$ARCHIVED_LOG WHERE NAME IS NOT NULL AND STATUS = 'A' AND DELETED = 'NO' AND NEXT_CHANGE# > :1`;

export interface LogFile {
  source: 'ONLINE' | 'ARCHIVED';
  name: string;
  thread: number;
  sequence: number;
  firstScn: string;
  /** Null or a huge value for the current online log. */
  nextScn: string | null;
}

/**
 * One file per (thread, sequence): the online log while it is still there (its first member),
 * else an archived copy. Sorted by thread and sequence. `covers` says whether the oldest file
 * reaches back to `fromScn` (otherwise the redo there is gone: a new snapshot is needed).
 */
export function chooseLogFiles(files: LogFile[], fromScn: string): { files: LogFile[]; covers: boolean } {
  const chosen = new Map<string, LogFile>();
  for (const file of files) {
    const key = `${file.thread}:${file.sequence}`;
    const have = chosen.get(key);
    if (!have || (have.source === 'ARCHIVED' && file.source === 'ONLINE')) chosen.set(key, file);
  }
  const list = [...chosen.values()].sort((a, b) => a.thread - b.thread || a.sequence - b.sequence);
  const from = BigInt(fromScn);
  const threads = new Set(list.map((f) => f.thread));
  let covers = list.length > 0;
  for (const thread of threads) {
    const first = list.find((f) => f.thread === thread)!;
    if (BigInt(first.firstScn) > from) covers = false;
  }
  return { files: list, covers };
}

/** 'OWNER.TABLE.COLUMN', the name MINE_VALUE and COLUMN_PRESENT take, as a literal. */
export function minedName(table: OracleTable, column: string): string {
  return quoteLiteral(`${table.owner}.${table.name}.${column}`);
}

function tableMatch(table: OracleTable): string {
  return `(SEG_OWNER = ${quoteLiteral(table.owner)} AND TABLE_NAME = ${quoteLiteral(table.name)})`;
}

/** The columns MINE_VALUE can return (not LOB, not LONG), in catalog order. */
export function minedColumns(table: OracleTable): OracleColumn[] {
  return table.columns.filter((c) => !c.lob);
}

/** Fixed columns of a contents row, before the value slots. */
export const FIXED_COLUMNS = ['COMMIT_SCN', 'COMMIT_TS', 'XID', 'OPERATION_CODE', 'SEG_OWNER', 'TABLE_NAME', 'RS_ID', 'SSN', 'DDL'] as const;

/**
 * The query over V$LOGMNR_CONTENTS for one window: rows of the mapped tables whose commit SCN
 * is in (:1, :2), in LogMiner's order (commit order, then redo order in the transaction).
 * Slot i of a row holds, for its table's i-th minable column: the new value (R), whether the
 * redo holds it (RP), the old value (U) and whether the undo holds it (UP).
 */
export function contentsSql(tables: MinedTable[]): string {
  const slots = Math.max(0, ...tables.map((t) => minedColumns(t.table).length));
  const slot = (i: number, value: 'REDO_VALUE' | 'UNDO_VALUE', fn: 'MINE_VALUE' | 'COLUMN_PRESENT'): string => {
    const branches = tables
      .map(({ table }) => {
        const column = minedColumns(table)[i];
        return column ? ` WHEN ${tableMatch(table)} THEN ${fn === 'MINE_VALUE' ? '' : 'TO_CHAR('}DBMS_LOGMNR.${fn}(${value}, ${minedName(table, column.name)})${fn === 'MINE_VALUE' ? '' : ')'}` : '';
      })
      .join('');
    return branches === '' ? 'NULL' : `CASE${branches} END`;
  };
  const values: string[] = [];
  for (let i = 0; i < slots; i++) {
    values.push(`${slot(i, 'REDO_VALUE', 'MINE_VALUE')} AS R${i}`, `${slot(i, 'REDO_VALUE', 'COLUMN_PRESENT')} AS RP${i}`);
    values.push(`${slot(i, 'UNDO_VALUE', 'MINE_VALUE')} AS U${i}`, `${slot(i, 'UNDO_VALUE', 'COLUMN_PRESENT')} AS UP${i}`);
  }
  const fixed = [
    'TO_CHAR(COMMIT_SCN) AS COMMIT_SCN',
    // COMMIT_TIMESTAMP is a DATE in the database host's time; SYSTIMESTAMP carries that host's offset.
    `TO_CHAR(SYS_EXTRACT_UTC(FROM_TZ(CAST(COMMIT_TIMESTAMP AS TIMESTAMP), TO_CHAR(SYSTIMESTAMP, 'TZH:TZM'))), 'YYYY-MM-DD"T"HH24:MI:SS".000Z"') AS COMMIT_TS`,
    'RAWTOHEX(XID) AS XID',
    'OPERATION_CODE',
    'SEG_OWNER',
    'TABLE_NAME',
    'RS_ID',
    'TO_CHAR(SSN) AS SSN',
    `CASE WHEN OPERATION_CODE = ${OPERATION.DDL} THEN SUBSTR(SQL_REDO, 1, 200) END AS DDL`,
  ];
  return (
    `SELECT ${[...fixed, ...values].join(', ')} FROM V$LOGMNR_CONTENTS ` +
    `WHERE OPERATION_CODE IN (${OPERATION.INSERT}, ${OPERATION.DELETE}, ${OPERATION.UPDATE}, ${OPERATION.DDL}) ` +
    `AND COMMIT_SCN > :1 AND COMMIT_SCN < :2 AND (${tables.map((t) => tableMatch(t.table)).join(' OR ')})`
  );
}

/** A row of contentsSql, as the driver returns it (arrays; every value text or null). */
export type ContentsRow = Array<string | number | null>;

export interface ParsedRow {
  commitScn: string;
  commitTs: string | null;
  xid: string;
  operation: number;
  table: string;
  /** RS_ID + SSN: one redo record (a change LogMiner split over several rows repeats it). */
  record: string;
  ddl: string | null;
  redo: Map<string, SourceValue>;
  undo: Map<string, SourceValue>;
}

/** A contents row -> the table's present values, converted (absent columns are not in the maps). */
export function parseContentsRow(row: ContentsRow, tables: ReadonlyMap<string, MinedTable>): ParsedRow | undefined {
  const text = (v: string | number | null | undefined): string | null => (v === null || v === undefined ? null : String(v));
  const owner = text(row[4]);
  const name = text(row[5]);
  const mined = tables.get(`${owner}.${name}`);
  if (!mined) return undefined;
  const redo = new Map<string, SourceValue>();
  const undo = new Map<string, SourceValue>();
  const base = FIXED_COLUMNS.length;
  minedColumns(mined.table).forEach((column, i) => {
    const at = base + i * 4;
    if (text(row[at + 1]) === '1') redo.set(column.name, oracleValue(column, row[at] ?? null));
    if (text(row[at + 3]) === '1') undo.set(column.name, oracleValue(column, row[at + 2] ?? null));
  });
  return {
    commitScn: text(row[0])!,
    commitTs: text(row[1]),
    xid: text(row[2]) ?? '',
    operation: Number(row[3]),
    table: mined.table.table,
    record: `${text(row[6]) ?? ''}/${text(row[7]) ?? ''}`,
    ddl: text(row[8]),
    redo,
    undo,
  };
}

/** What a change still needs from the table: LOB columns and columns the redo did not carry, read AS OF the commit SCN. */
export interface PendingChange {
  change: RawChange;
  /** Columns to read back by key (empty: the change is complete). */
  refetch: string[];
}

function fullRow(table: OracleTable, values: Map<string, SourceValue>): boolean {
  return minedColumns(table).every((c) => values.has(c.name));
}

function rowOf(table: OracleTable, values: Map<string, SourceValue>): SourceRow {
  const row: SourceRow = {};
  for (const column of table.columns) if (values.has(column.name)) row[column.name] = values.get(column.name)!;
  return row;
}

function keyOf(keyColumns: string[], values: Map<string, SourceValue>): SourceRow | undefined {
  const key: SourceRow = {};
  for (const k of keyColumns) {
    if (!values.has(k)) return undefined;
    key[k] = values.get(k)!;
  }
  return key;
}

function sameKey(a: SourceRow, b: SourceRow, keyColumns: string[]): boolean {
  return keyColumns.every((k) => {
    const x = a[k] ?? null;
    const y = b[k] ?? null;
    if (x instanceof Uint8Array && y instanceof Uint8Array) return Buffer.from(x).equals(Buffer.from(y));
    return x === y;
  });
}

/**
 * One mined row -> its changes (an update of the key itself is `d` for the old key and `c`
 * for the new one). `nextIndex` hands out the position index within the commit SCN.
 */
export function changesOf(
  parsed: ParsedRow,
  mined: MinedTable,
  columns: RawChange['columns'],
  nextIndex: () => number,
): PendingChange[] {
  const { table, keyColumns } = mined;
  const lobs = table.columns.filter((c) => c.lob).map((c) => c.name);
  const base = { table: table.table, commitTs: parsed.commitTs, capture: 'log' as const, columns };
  const make = (op: RawChange['op'], row: SourceRow | null, before: SourceRow | null, keyRow: SourceRow | null, extra: Partial<RawChange> = {}): RawChange => ({
    ...base,
    op,
    position: oraclePosition(parsed.commitScn, nextIndex()),
    row,
    before,
    keyRow,
    ...extra,
  });
  const missingKey = (what: string): PendingChange[] => [
    {
      change: make(parsed.operation === OPERATION.DELETE ? 'd' : 'u', null, null, null, {
        error:
          `the redo of this ${what} on ${table.table} does not carry the key columns ${keyColumns.join(', ')}; ` +
          `a DBA can run: ALTER TABLE ${table.owner}.${table.name} ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;`,
      }),
      refetch: [],
    },
  ];
  switch (parsed.operation) {
    case OPERATION.INSERT: {
      // An insert's redo holds every column it set; a column it does not hold is NULL (LOBs are written separately).
      const values = new Map(parsed.redo);
      for (const c of minedColumns(table)) if (!values.has(c.name)) values.set(c.name, null);
      const key = keyOf(keyColumns, values);
      if (!key) return missingKey('insert');
      return [{ change: make('c', rowOf(table, values), null, key), refetch: lobs }];
    }
    case OPERATION.DELETE: {
      const key = keyOf(keyColumns, parsed.undo);
      if (!key) return missingKey('delete');
      return [{ change: make('d', null, fullRow(table, parsed.undo) ? rowOf(table, parsed.undo) : null, key), refetch: [] }];
    }
    case OPERATION.UPDATE: {
      const oldKey = keyOf(keyColumns, parsed.undo) ?? keyOf(keyColumns, parsed.redo);
      if (!oldKey) return missingKey('update');
      // The undo holds the old values of the changed columns and of the supplementally logged ones; the redo the new values.
      const after = new Map(parsed.undo);
      for (const [name, value] of parsed.redo) after.set(name, value);
      const newKey = keyOf(keyColumns, after)!;
      const absent = minedColumns(table)
        .filter((c) => !after.has(c.name))
        .map((c) => c.name);
      const before = fullRow(table, parsed.undo) ? rowOf(table, parsed.undo) : null;
      const refetch = [...absent, ...lobs];
      if (!sameKey(oldKey, newKey, keyColumns)) {
        const removed = make('d', null, before, oldKey);
        return [
          { change: removed, refetch: [] },
          { change: make('c', rowOf(table, after), null, newKey), refetch },
        ];
      }
      return [{ change: make('u', rowOf(table, after), before, newKey), refetch }];
    }
    case OPERATION.DDL:
      if (parsed.ddl !== null && /^\s*truncate\s+table\b/i.test(parsed.ddl)) return [{ change: make('t', null, null, null), refetch: [] }];
      return [];
    default:
      return [];
  }
}

/** SELECT the refetched columns of one row by key, AS OF the commit SCN (binds: the SCN, then the key values). */
export function refetchSql(table: OracleTable, columns: string[], keyColumns: string[]): string {
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const where = keyColumns.map((k, i) => `${quoteIdent(k)} = ${bindExpression(byName.get(k)!, `:${i + 2}`)}`).join(' AND ');
  return `SELECT ${columns.map((c) => selectExpression(byName.get(c)!)).join(', ')} FROM ${quoteTable(table.owner, table.name)} AS OF SCN :1 WHERE ${where}`;
}
