/**
 * SQL Server CDC: the statements that read the change tables through
 * cdc.fn_cdc_get_all_changes_<capture instance>, and the pure functions that turn their rows
 * into RawChanges.
 *
 * __$operation: 1 delete (the old row), 2 insert (the new row), 3 update, row before,
 * 4 update, row after. With the row filter N'all update old', an update comes as a 3 then a 4
 * with the same __$start_lsn and __$seqval; they become one `u` with `before` and `after` (or a
 * `d` and a `c` when the key itself changed). Large-value columns (text, ntext, image, xml and
 * the (MAX) types) that an update did not change are not in its rows (NULL, their bit clear in
 * __$update_mask): they are read back by key and listed in `source.refetched`.
 */
import type { SourceColumn, SourceRow, SourceValue } from '../../src/mapping/types.ts';
import type { RawChange } from '../../src/ports.ts';
import type { CaptureInstance, MssqlTable } from './catalog.ts';
import { quoteIdent } from './connection.ts';
import { mssqlPosition } from './position.ts';
import { mssqlValue, selectExpression } from './values.ts';

export const CDC_OPERATION = { DELETE: 1, INSERT: 2, UPDATE_BEFORE: 3, UPDATE_AFTER: 4 } as const;

/** The change function's name for a capture instance, quoted. */
export function changeFunction(instance: string): string {
  return `cdc.${quoteIdent(`fn_cdc_get_all_changes_${instance}`)}`;
}

/** The captured columns of a table that the mapping reads, in table order. */
export function capturedColumns(table: MssqlTable, instance: CaptureInstance): MssqlTable['columns'] {
  const captured = new Set(instance.columns);
  return table.columns.filter((c) => captured.has(c.name));
}

/** Changes of one table with commit LSN in [@from, @to], in commit order, then change order, before image first. */
export function changesSql(table: MssqlTable, instance: CaptureInstance): string {
  const values = capturedColumns(table, instance).map((c) => selectExpression(c));
  return (
    `SELECT CONVERT(VARCHAR(20), [__$start_lsn], 2) AS [__$start_lsn], CONVERT(VARCHAR(20), [__$seqval], 2) AS [__$seqval], ` +
    `[__$operation], CONVERT(VARCHAR(MAX), [__$update_mask], 2) AS [__$update_mask]${values.length > 0 ? ', ' + values.join(', ') : ''} ` +
    `FROM ${changeFunction(instance.name)}(@from, @to, N'all update old') ORDER BY [__$start_lsn], [__$seqval], [__$operation]`
  );
}

/** Commit times of the next transactions after @after (at most @n), in the server's local time made UTC with its current offset. */
export const LSN_TIMES_SQL =
  `SELECT TOP (@n) CONVERT(VARCHAR(20), start_lsn, 2) AS lsn, ` +
  `CONVERT(VARCHAR(23), CONVERT(DATETIME2(3), SWITCHOFFSET(TODATETIMEOFFSET(tran_end_time, DATEPART(TZOFFSET, SYSDATETIMEOFFSET())), 0)), 121) AS ts ` +
  `FROM cdc.lsn_time_mapping WHERE start_lsn > @after AND start_lsn <= @to ORDER BY start_lsn`;

export const MAX_LSN_SQL = 'SELECT CONVERT(VARCHAR(20), sys.fn_cdc_get_max_lsn(), 2) AS lsn';
export const INCREMENT_LSN_SQL = 'SELECT CONVERT(VARCHAR(20), sys.fn_cdc_increment_lsn(@lsn), 2) AS lsn';
export const MIN_LSN_SQL = 'SELECT CONVERT(VARCHAR(20), sys.fn_cdc_get_min_lsn(@instance), 2) AS lsn';

/** '2024-03-10 06:59:59.123' (style 121, UTC) -> '2024-03-10T06:59:59.123Z'. */
export function commitTsText(text: string | null | undefined): string | null {
  if (!text) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,3}))?/.exec(text);
  return m ? `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(3, '0')}Z` : null;
}

/** Whether column `ordinal` (from 1) is set in an __$update_mask given as hex (the lowest ordinal is the last byte's lowest bit). */
export function maskHasColumn(maskHex: string | null, ordinal: number): boolean {
  if (!maskHex) return false;
  const bytes = Buffer.from(maskHex.replace(/^0x/i, ''), 'hex');
  const byte = bytes[bytes.length - 1 - Math.floor((ordinal - 1) / 8)];
  return byte !== undefined && (byte & (1 << ((ordinal - 1) % 8))) !== 0;
}

/** One row of changesSql as `mssql` returns it. */
export type CdcRow = Record<string, unknown> & {
  __$start_lsn: string;
  __$seqval: string;
  __$operation: number;
  __$update_mask: string | null;
};

export interface PendingChange {
  change: RawChange;
  /** Large-value columns to read back by key. */
  refetch: string[];
}

export interface CdcTable {
  table: MssqlTable;
  instance: CaptureInstance;
  keyColumns: string[];
  columns: ReadonlyMap<string, SourceColumn>;
}

function rowOf(t: CdcTable, raw: CdcRow): SourceRow {
  const row: SourceRow = {};
  for (const column of capturedColumns(t.table, t.instance)) row[column.name] = mssqlValue(column, raw[column.name]);
  return row;
}

function keyOf(keyColumns: string[], row: SourceRow): SourceRow {
  const key: SourceRow = {};
  for (const k of keyColumns) key[k] = row[k] ?? null;
  return key;
}

function equalValue(a: SourceValue, b: SourceValue): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  return a === b;
}

/**
 * The rows of one table's change function, in their order, -> changes. Rows of one table
 * never interleave with another's inside one (start LSN, seqval); the caller merges tables by
 * (start LSN, seqval). `commitTs` maps a start LSN to its commit time.
 */
export function cdcChanges(t: CdcTable, rows: CdcRow[], commitTs: (lsn: string) => string | null): PendingChange[] {
  const out: PendingChange[] = [];
  const lobs = capturedColumns(t.table, t.instance).filter((c) => c.lob);
  const base = (raw: CdcRow) => ({ table: t.table.table, commitTs: commitTs(raw.__$start_lsn), capture: 'log' as const, columns: t.columns });
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i]!;
    const position = (index: number) => mssqlPosition(raw.__$start_lsn, raw.__$seqval, index);
    switch (Number(raw.__$operation)) {
      case CDC_OPERATION.INSERT: {
        const row = rowOf(t, raw);
        out.push({ change: { ...base(raw), op: 'c', position: position(1), row, before: null, keyRow: keyOf(t.keyColumns, row) }, refetch: [] });
        break;
      }
      case CDC_OPERATION.DELETE: {
        const before = rowOf(t, raw);
        out.push({ change: { ...base(raw), op: 'd', position: position(1), row: null, before, keyRow: keyOf(t.keyColumns, before) }, refetch: [] });
        break;
      }
      case CDC_OPERATION.UPDATE_BEFORE:
      case CDC_OPERATION.UPDATE_AFTER: {
        const next = rows[i + 1];
        const paired = Number(raw.__$operation) === CDC_OPERATION.UPDATE_BEFORE && next && Number(next.__$operation) === CDC_OPERATION.UPDATE_AFTER && next.__$seqval === raw.__$seqval && next.__$start_lsn === raw.__$start_lsn;
        const beforeRaw = Number(raw.__$operation) === CDC_OPERATION.UPDATE_BEFORE ? raw : undefined;
        const afterRaw = paired ? next : Number(raw.__$operation) === CDC_OPERATION.UPDATE_AFTER ? raw : undefined;
        if (paired) i += 1;
        if (!afterRaw) {
          // A before image without its after image: only possible if the function was read with the wrong row filter.
          const before = rowOf(t, raw);
          out.push({
            change: { ...base(raw), op: 'u', position: position(1), row: null, before, keyRow: keyOf(t.keyColumns, before), error: 'update before image without its after image' },
            refetch: [],
          });
          break;
        }
        const after = rowOf(t, afterRaw);
        // Unchanged large values come as NULL with their mask bit clear: read back, never sent as null.
        const refetch = lobs
          .filter((c) => after[c.name] === null && !maskHasColumn(afterRaw.__$update_mask, t.instance.ordinals.get(c.name) ?? 0))
          .map((c) => c.name);
        const before = beforeRaw ? rowOf(t, beforeRaw) : null;
        if (before) for (const name of refetch) delete before[name];
        const newKey = keyOf(t.keyColumns, after);
        const oldKey = before ? keyOf(t.keyColumns, before) : newKey;
        const keyChanged = t.keyColumns.some((k) => !equalValue(oldKey[k] ?? null, newKey[k] ?? null));
        if (keyChanged) {
          out.push({ change: { ...base(raw), op: 'd', position: position(1), row: null, before, keyRow: oldKey }, refetch: [] });
          out.push({ change: { ...base(raw), op: 'c', position: position(2), row: after, before: null, keyRow: newKey }, refetch });
        } else {
          out.push({ change: { ...base(raw), op: 'u', position: position(1), row: after, before: refetch.length > 0 ? null : before, keyRow: newKey }, refetch });
        }
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** Merges the changes of several tables into commit order (positions are fixed width: string order is commit order). */
export function mergeByPosition(lists: PendingChange[][]): PendingChange[] {
  return lists.flat().sort((a, b) => (a.change.position < b.change.position ? -1 : a.change.position > b.change.position ? 1 : 0));
}

/** The key statement a refetch runs: the named columns of one row, by key (binds @k0, @k1 …). */
export function refetchSql(table: MssqlTable, columns: string[], keyColumns: string[]): string {
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  return (
    `SELECT ${columns.map((c) => selectExpression(byName.get(c)!)).join(', ')} FROM ${quoteIdent(table.schema)}.${quoteIdent(table.name)} ` +
    `WHERE ${keyColumns.map((k, i) => `${quoteIdent(k)} = @k${i}`).join(' AND ')}`
  );
}
