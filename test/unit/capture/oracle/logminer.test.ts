// LogMiner: the mining SQL as text, and mined rows (as the driver returns them for that SQL)
// turned into changes: op mapping, before/after images, key changes, LOB read-back, truncate.
import { describe, expect, it } from 'vitest';
import type { OracleTable } from '../../../../capture/oracle/catalog.ts';
import { sourceColumns } from '../../../../capture/shared-catalog.ts';
import {
  FIXED_COLUMNS,
  addLogfileSql,
  changesOf,
  chooseLogFiles,
  contentsSql,
  parseContentsRow,
  refetchSql,
  startLogminerSql,
  type ContentsRow,
  type LogFile,
  type MinedTable,
} from '../../../../capture/oracle/logminer.ts';
import { oracleColumn } from '../../../../capture/oracle/values.ts';

const TABLE: OracleTable = {
  table: 'LEGACY.INSPECTIONS',
  owner: 'LEGACY',
  name: 'INSPECTIONS',
  columns: [
    oracleColumn('ID', 'NUMBER', 10, 0),
    oracleColumn('AMOUNT', 'NUMBER', 12, 2),
    oracleColumn('AT', 'TIMESTAMP(6)', null, 6),
    oracleColumn('NOTE', 'CLOB', null, null),
  ],
  primaryKey: ['ID'],
};
const OTHER: OracleTable = { table: 'LEGACY.CODES', owner: 'LEGACY', name: 'CODES', columns: [oracleColumn('CODE', 'VARCHAR2', null, null)], primaryKey: ['CODE'] };
const MINED: MinedTable = { table: TABLE, keyColumns: ['ID'] };
const TABLES = new Map<string, MinedTable>([
  [TABLE.table, MINED],
  [OTHER.table, { table: OTHER, keyColumns: ['CODE'] }],
]);
const COLUMNS = sourceColumns(TABLE);

/** A contents row: fixed columns, then per minable column [redo, present, undo, present]. */
function row(op: number, scn: string, redo: Record<string, string | null>, undo: Record<string, string | null>, extra: { ssn?: string; ddl?: string; table?: string } = {}): ContentsRow {
  const slots = ['ID', 'AMOUNT', 'AT'].flatMap((c) => [
    c in redo ? redo[c]! : null,
    c in redo ? '1' : '0',
    c in undo ? undo[c]! : null,
    c in undo ? '1' : '0',
  ]);
  return [scn, '2024-03-10T06:59:59.000Z', '0A001B00C3040000', op, 'LEGACY', extra.table ?? 'INSPECTIONS', ' 0x000012.00000345.0010 ', extra.ssn ?? '0', extra.ddl ?? null, ...slots];
}

function mine(r: ContentsRow) {
  const parsed = parseContentsRow(r, TABLES)!;
  let index = 0;
  return changesOf(parsed, TABLES.get(parsed.table)!, COLUMNS, () => ++index);
}

describe('LogMiner SQL', () => {
  it('mines committed data with the online catalog, one window at a time', () => {
    expect(startLogminerSql()).toBe(
      'BEGIN DBMS_LOGMNR.START_LOGMNR(STARTSCN => :1, ENDSCN => :2, OPTIONS => DBMS_LOGMNR.DICT_FROM_ONLINE_CATALOG + DBMS_LOGMNR.COMMITTED_DATA_ONLY); END;',
    );
    expect(addLogfileSql(true)).toContain('DBMS_LOGMNR.NEW');
    expect(addLogfileSql(false)).toContain('DBMS_LOGMNR.ADDFILE');
  });

  it('reads column values with MINE_VALUE / COLUMN_PRESENT per table, no LOB, filtered by commit SCN', () => {
    const text = contentsSql([...TABLES.values()]);
    expect(text).toContain(`CASE WHEN (SEG_OWNER = 'LEGACY' AND TABLE_NAME = 'INSPECTIONS') THEN DBMS_LOGMNR.MINE_VALUE(REDO_VALUE, 'LEGACY.INSPECTIONS.ID') WHEN (SEG_OWNER = 'LEGACY' AND TABLE_NAME = 'CODES') THEN DBMS_LOGMNR.MINE_VALUE(REDO_VALUE, 'LEGACY.CODES.CODE') END AS R0`);
    expect(text).toContain(`TO_CHAR(DBMS_LOGMNR.COLUMN_PRESENT(UNDO_VALUE, 'LEGACY.INSPECTIONS.AT')) END AS UP2`);
    expect(text).not.toContain('INSPECTIONS.NOTE');
    expect(text).not.toMatch(/\bR3\b/);
    expect(text).toContain('FROM V$LOGMNR_CONTENTS WHERE OPERATION_CODE IN (1, 2, 3, 5) AND COMMIT_SCN > :1 AND COMMIT_SCN < :2');
    // Four slots per minable column of the widest table, after the fixed columns.
    expect(text.match(/ AS (R|RP|U|UP)\d+\b/g)!.length).toBe(3 * 4);
    expect(text.indexOf('AS R0')).toBeGreaterThan(text.indexOf(' AS DDL'));
    expect(FIXED_COLUMNS.at(-1)).toBe('DDL');
  });

  it('reads LOBs back by key AS OF the commit SCN', () => {
    expect(refetchSql(TABLE, ['NOTE', 'AT'], ['ID'])).toBe(
      `SELECT "NOTE", TO_CHAR("AT", 'YYYY-MM-DD HH24:MI:SS.FF6') AS "AT" FROM "LEGACY"."INSPECTIONS" AS OF SCN :1 WHERE "ID" = :2`,
    );
  });
});

describe('mined rows -> changes', () => {
  it('insert: c with every column, NULL for what the redo leaves out, LOBs to read back', () => {
    const [p, more] = mine(row(1, '2758', { ID: '7', AMOUNT: '.5' }, {}));
    expect(more).toBeUndefined();
    expect(p!.change).toMatchObject({ op: 'c', position: '00000000000000002758-00000001', row: { ID: '7', AMOUNT: '0.5', AT: null }, keyRow: { ID: '7' }, before: null, capture: 'log' });
    expect(p!.change.commitTs).toBe('2024-03-10T06:59:59.000Z');
    expect(p!.refetch).toEqual(['NOTE']);
  });

  it('update: after = undo overlaid with redo; full undo is the before image', () => {
    const [p] = mine(row(3, '2759', { AMOUNT: '2' }, { ID: '7', AMOUNT: '1', AT: '2024-01-01 00:00:00.000000000' }));
    expect(p!.change).toMatchObject({
      op: 'u',
      row: { ID: '7', AMOUNT: '2', AT: '2024-01-01 00:00:00.000000' },
      before: { ID: '7', AMOUNT: '1', AT: '2024-01-01 00:00:00.000000' },
      keyRow: { ID: '7' },
    });
    expect(p!.refetch).toEqual(['NOTE']);
  });

  it('update without ALL COLUMNS logging: no before image, unchanged columns read back', () => {
    const [p] = mine(row(3, '2759', { AMOUNT: '2' }, { ID: '7', AMOUNT: '1' }));
    expect(p!.change.before).toBeNull();
    expect(p!.refetch).toEqual(['AT', 'NOTE']);
  });

  it('update of the key: d for the old key, c for the new, in that order', () => {
    const changes = mine(row(3, '2760', { ID: '8' }, { ID: '7', AMOUNT: '1', AT: null }));
    expect(changes.map((c) => [c.change.op, c.change.keyRow, c.change.position])).toEqual([
      ['d', { ID: '7' }, '00000000000000002760-00000001'],
      ['c', { ID: '8' }, '00000000000000002760-00000002'],
    ]);
  });

  it('delete: d with the undo as before image; a change without its key is dead-lettered with the fix', () => {
    const [d] = mine(row(2, '2761', {}, { ID: '7', AMOUNT: '1', AT: null }));
    expect(d!.change).toMatchObject({ op: 'd', row: null, keyRow: { ID: '7' }, before: { ID: '7', AMOUNT: '1', AT: null } });
    const [bad] = mine(row(3, '2762', { AMOUNT: '3' }, { AMOUNT: '2' }));
    expect(bad!.change.error).toMatch(/ADD SUPPLEMENTAL LOG DATA \(ALL\) COLUMNS/);
  });

  it('TRUNCATE is op t; other DDL and other tables give nothing', () => {
    expect(mine(row(5, '2763', {}, {}, { ddl: 'truncate table "LEGACY"."INSPECTIONS"' })).map((c) => c.change.op)).toEqual(['t']);
    expect(mine(row(5, '2763', {}, {}, { ddl: 'alter table x add y number' }))).toEqual([]);
    expect(parseContentsRow(row(1, '1', {}, {}, { table: 'UNMAPPED' }), TABLES)).toBeUndefined();
  });
});

describe('redo log files', () => {
  const file = (source: LogFile['source'], sequence: number, first: string, name = `${source}-${sequence}`): LogFile => ({ source, name, thread: 1, sequence, firstScn: first, nextScn: null });

  it('keeps one file per sequence, the online one while it exists, in sequence order', () => {
    const { files, covers } = chooseLogFiles([file('ARCHIVED', 2, '200'), file('ONLINE', 3, '300'), file('ONLINE', 2, '200'), file('ARCHIVED', 1, '100'), file('ONLINE', 3, '300', 'member-b')], '150');
    expect(files.map((f) => f.name)).toEqual(['ARCHIVED-1', 'ONLINE-2', 'ONLINE-3']);
    expect(covers).toBe(true);
  });

  it('says when the redo at the resume point is gone', () => {
    expect(chooseLogFiles([file('ONLINE', 5, '500')], '499').covers).toBe(false);
    expect(chooseLogFiles([], '1').covers).toBe(false);
  });
});
