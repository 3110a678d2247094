// CDC: the change-function SQL as text, LSN positions, and change rows (as `mssql` returns
// them for that SQL) turned into changes: __$operation mapping, update before/after pairing,
// key changes, unchanged large values read back, merge across tables in commit order.
import { describe, expect, it } from 'vitest';
import type { CaptureInstance, MssqlTable } from '../../../../capture/mssql/catalog.ts';
import { sourceColumns } from '../../../../capture/shared-catalog.ts';
import { cdcChanges, changesSql, commitTsText, maskHasColumn, mergeByPosition, refetchSql, type CdcRow, type CdcTable } from '../../../../capture/mssql/cdc.ts';
import { enableCdcSql } from '../../../../capture/mssql/doctor.ts';
import { compareLsn, lsnHex, mssqlPosition, snapshotPosition } from '../../../../capture/mssql/position.ts';
import { keysetCondition, snapshotChunkSql } from '../../../../capture/mssql/snapshot.ts';
import { mssqlColumn } from '../../../../capture/mssql/values.ts';

const TABLE: MssqlTable = {
  table: 'dbo.orders',
  schema: 'dbo',
  name: 'orders',
  objectId: 901578250,
  columns: [
    mssqlColumn('id', 'int', 10, 0, 4),
    mssqlColumn('amount', 'decimal', 38, 10, 17),
    mssqlColumn('note', 'nvarchar', 0, 0, -1),
    mssqlColumn('secret', 'varchar', 0, 0, 10),
  ],
  primaryKey: ['id'],
};
const INSTANCE: CaptureInstance = { table: 'dbo.orders', name: 'dbo_orders', columns: ['id', 'amount', 'note'], ordinals: new Map([['id', 1], ['amount', 2], ['note', 3]]), startLsn: '0000002A000001F00003' };
const T: CdcTable = { table: TABLE, instance: INSTANCE, keyColumns: ['id'], columns: sourceColumns(TABLE, INSTANCE.columns) };

const LSN1 = '0000002B000000C80004';
const LSN2 = '0000002B000001100003';
const r = (lsn: string, seq: string, op: number, values: { id: number; amount: string | null; note: string | null }, mask = '07'): CdcRow => ({
  __$start_lsn: lsn,
  __$seqval: seq,
  __$operation: op,
  __$update_mask: mask,
  ...values,
});
const times = (lsn: string) => (lsn === LSN1 ? '2024-03-10T06:59:59.123Z' : null);

describe('change function SQL', () => {
  it('reads all changes with the update before image, captured columns only, converted to text', () => {
    expect(changesSql(TABLE, INSTANCE)).toBe(
      'SELECT CONVERT(VARCHAR(20), [__$start_lsn], 2) AS [__$start_lsn], CONVERT(VARCHAR(20), [__$seqval], 2) AS [__$seqval], [__$operation], ' +
        'CONVERT(VARCHAR(MAX), [__$update_mask], 2) AS [__$update_mask], [id], CONVERT(VARCHAR(50), [amount]) AS [amount], [note] ' +
        `FROM cdc.[fn_cdc_get_all_changes_dbo_orders](@from, @to, N'all update old') ORDER BY [__$start_lsn], [__$seqval], [__$operation]`,
    );
    expect(refetchSql(TABLE, ['note'], ['id'])).toBe('SELECT [note] FROM [dbo].[orders] WHERE [id] = @k0');
    expect(commitTsText('2024-03-10 06:59:59.12')).toBe('2024-03-10T06:59:59.120Z');
    expect(commitTsText(null)).toBeNull();
  });
});

describe('LSN positions', () => {
  it('are fixed width and sort as strings in (commit LSN, seqval, index) order', () => {
    expect(mssqlPosition(LSN1, '0000002B000000C80002', 1)).toBe('0000002B000000C80004-0000002B000000C80002-00000001');
    expect(snapshotPosition(LSN1)).toBe('0000002B000000C80004-00000000000000000000-00000000');
    expect(lsnHex(Buffer.from('0000002b000000c80004', 'hex'))).toBe(LSN1);
    expect(lsnHex('0x2A')).toBe('0000000000000000002A');
    const positions = [mssqlPosition(LSN2, '01', 1), snapshotPosition(LSN1), mssqlPosition(LSN1, '0A', 2), mssqlPosition(LSN1, '0A', 1), mssqlPosition(LSN1, '09', 1)];
    expect([...positions].sort()).toEqual([snapshotPosition(LSN1), mssqlPosition(LSN1, '09', 1), mssqlPosition(LSN1, '0A', 1), mssqlPosition(LSN1, '0A', 2), mssqlPosition(LSN2, '01', 1)]);
    expect(compareLsn(LSN1, LSN2)).toBe(-1);
    expect(() => lsnHex('xyz')).toThrow(/invalid LSN/);
  });
});

describe('__$operation -> changes', () => {
  it('maps 2 to c, 1 to d (before = the old row), a 3+4 pair to one u with before and after', () => {
    const changes = cdcChanges(
      T,
      [
        r(LSN1, '0000002B000000C80002', 2, { id: 1, amount: '1.5000000000', note: 'a' }),
        r(LSN1, '0000002B000000C80003', 3, { id: 1, amount: '1.5000000000', note: 'a' }, '02'),
        r(LSN1, '0000002B000000C80003', 4, { id: 1, amount: '2.0000000000', note: 'a' }, '02'),
        r(LSN2, '0000002B000001100002', 1, { id: 1, amount: '2.0000000000', note: 'a' }),
      ],
      times,
    ).map((p) => p.change);
    expect(changes.map((c) => c.op)).toEqual(['c', 'u', 'd']);
    expect(changes[0]).toMatchObject({ row: { id: '1', amount: '1.5000000000', note: 'a' }, keyRow: { id: '1' }, before: null, commitTs: '2024-03-10T06:59:59.123Z', capture: 'log' });
    expect(changes[1]).toMatchObject({ row: { amount: '2.0000000000' }, before: { amount: '1.5000000000' }, position: `${LSN1}-0000002B000000C80003-00000001` });
    expect(changes[2]).toMatchObject({ row: null, before: { id: '1', amount: '2.0000000000', note: 'a' }, keyRow: { id: '1' }, commitTs: null });
    expect(changes[0]!.row).not.toHaveProperty('secret');
  });

  it('an update of the key is d for the old key then c for the new one', () => {
    const changes = cdcChanges(
      T,
      [r(LSN1, '05', 3, { id: 1, amount: '1', note: 'a' }, '01'), r(LSN1, '05', 4, { id: 9, amount: '1', note: 'a' }, '01')],
      times,
    ).map((p) => p.change);
    expect(changes.map((c) => [c.op, c.keyRow, c.position.slice(-8)])).toEqual([
      ['d', { id: '1' }, '00000001'],
      ['c', { id: '9' }, '00000002'],
    ]);
  });

  it('an unchanged (MAX) value left NULL by CDC is read back, a NULL it set is kept', () => {
    const [kept] = cdcChanges(T, [r(LSN1, '06', 3, { id: 1, amount: '1', note: 'x' }, '06'), r(LSN1, '06', 4, { id: 1, amount: '2', note: null }, '06')], times);
    expect(kept!.refetch).toEqual([]);
    expect(kept!.change.row).toMatchObject({ note: null });
    const [refetched] = cdcChanges(T, [r(LSN1, '07', 3, { id: 1, amount: '1', note: null }, '02'), r(LSN1, '07', 4, { id: 1, amount: '2', note: null }, '02')], times);
    expect(refetched!.refetch).toEqual(['note']);
    expect(refetched!.change.before).toBeNull();
  });

  it('reads the update mask with ordinal 1 in the last byte lowest bit', () => {
    expect(maskHasColumn('0102', 2)).toBe(true);
    expect(maskHasColumn('0102', 1)).toBe(false);
    expect(maskHasColumn('0102', 9)).toBe(true);
    expect(maskHasColumn(null, 1)).toBe(false);
  });

  it('merges tables into commit order', () => {
    const a = cdcChanges(T, [r(LSN2, '01', 2, { id: 2, amount: null, note: null })], times);
    const b = cdcChanges(T, [r(LSN1, '01', 2, { id: 1, amount: null, note: null })], times);
    expect(mergeByPosition([a, b]).map((p) => p.change.keyRow)).toEqual([{ id: '1' }, { id: '2' }]);
  });
});

describe('snapshot and doctor SQL', () => {
  it('pages by key with OFFSET 0 … FETCH, never a growing OFFSET', () => {
    expect(keysetCondition(['a', 'b'])).toBe('[a] >= @a0 AND ([a] > @a0 OR ([a] = @a0 AND [b] > @a1))');
    expect(snapshotChunkSql(TABLE, ['id'], 100, true)).toBe(
      'SELECT [id], CONVERT(VARCHAR(50), [amount]) AS [amount], [note], [secret] FROM [dbo].[orders] WHERE [id] > @a0 ORDER BY [id] OFFSET 0 ROWS FETCH NEXT 100 ROWS ONLY',
    );
  });

  it('prints the exact statements that enable CDC', () => {
    expect(enableCdcSql('legacy', [{ schema: 'dbo', name: 'orders' }], false)).toEqual([
      'USE [legacy]; EXEC sys.sp_cdc_enable_db;',
      "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'orders', @role_name = NULL, @supports_net_changes = 0;",
    ]);
    expect(enableCdcSql('legacy', [], true)).toEqual([]);
  });
});
