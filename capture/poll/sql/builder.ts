/**
 * The statements every dialect shares, written once over a small SqlFlavor: quoting,
 * placeholders, the per-row hash and its exact sum, key comparison and row limits.
 */
import type { SourceColumnKind } from '../../../src/mapping/types.ts';
import type { PollSql } from '../dialect.ts';
import type { BoundValue, DialectKind, KeyRange, KeyValues, PollColumn, PollTable, Statement } from '../types.ts';

export interface SqlFlavor {
  readonly dialect: DialectKind;
  ident(name: string): string;
  /** Placeholder for the n-th parameter (from 1). */
  placeholder(n: number): string;
  /** The expression a column is read as (default: the quoted column). */
  selectColumn?(column: PollColumn): string;
  /** A 64-bit integer hash of the row's columns, computed by the database. */
  rowHash(columns: PollColumn[]): string;
  /** Exact sum of `rowHash` over the rows, as text; '0' over no rows. */
  sumOf(rowHash: string): string;
  countRows(): string;
  /** `(a, b) > (x, y)` row comparison, where the database has it and its planner uses an index for it. */
  readonly rowValues: boolean;
  /** ORDER BY clause plus the row limit. */
  orderAndLimit(orderBy: string, limit: number | undefined): string;
  /** Largest value of a column, as text. */
  maxOf(column: PollColumn): string;
}

class Params {
  readonly values: BoundValue[] = [];
  constructor(private readonly flavor: SqlFlavor) {}
  add(kind: SourceColumnKind, value: BoundValue['value']): string {
    this.values.push({ kind, value });
    return this.flavor.placeholder(this.values.length);
  }
}

export function quoteWith(open: string, close: string): (name: string) => string {
  return (name) => open + name.split(close).join(close + close) + close;
}

function tableName(flavor: SqlFlavor, table: PollTable): string {
  return `${flavor.ident(table.schema)}.${flavor.ident(table.name)}`;
}

function keyColumns(table: PollTable): PollColumn[] {
  return table.keyIndexes.map((i) => table.columns[i]!);
}

/**
 * `cols > values` (strict) or `cols <= values`, lexicographic over the columns. Without row
 * values it is spelled out, with the first column's bound repeated on its own (`a >= x AND
 * (a > x OR (a = x AND b > y))`) so an index range on the leading column is still used.
 */
export function compareKeys(flavor: SqlFlavor, params: Params, columns: PollColumn[], values: KeyValues, op: '>' | '<='): string {
  if (columns.length !== values.length) throw new Error(`key has ${columns.length} columns, got ${values.length} values`);
  const names = columns.map((c) => flavor.ident(c.name));
  if (columns.length === 1) return `${names[0]} ${op} ${params.add(columns[0]!.kind, values[0]!)}`;
  if (flavor.rowValues) {
    const bound = columns.map((c, i) => params.add(c.kind, values[i]!));
    return `(${names.join(', ')}) ${op} (${bound.join(', ')})`;
  }
  const strict = op === '>' ? '>' : '<';
  const leading = `${names[0]} ${op === '>' ? '>=' : '<='} ${params.add(columns[0]!.kind, values[0]!)}`;
  const alternatives: string[] = [];
  for (let i = 0; i < columns.length; i++) {
    const parts: string[] = [];
    for (let j = 0; j < i; j++) parts.push(`${names[j]} = ${params.add(columns[j]!.kind, values[j]!)}`);
    const last = i === columns.length - 1 ? op : strict;
    parts.push(`${names[i]} ${last} ${params.add(columns[i]!.kind, values[i]!)}`);
    alternatives.push(parts.length === 1 ? parts[0]! : `(${parts.join(' AND ')})`);
  }
  return `${leading} AND (${alternatives.join(' OR ')})`;
}

function rangeConditions(flavor: SqlFlavor, params: Params, table: PollTable, range: KeyRange): string[] {
  const columns = keyColumns(table);
  const conditions: string[] = [];
  if (range.after) conditions.push(compareKeys(flavor, params, columns, range.after, '>'));
  if (range.upTo) conditions.push(compareKeys(flavor, params, columns, range.upTo, '<='));
  return conditions;
}

function where(conditions: string[]): string {
  return conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
}

function selectList(flavor: SqlFlavor, table: PollTable): string {
  const columns = table.columns.map((c, i) => `${flavor.selectColumn ? flavor.selectColumn(c) : flavor.ident(c.name)} AS ${flavor.ident(`c${i}`)}`);
  return [...columns, `${flavor.rowHash(table.columns)} AS ${flavor.ident('h')}`].join(', ');
}

function keyOrder(flavor: SqlFlavor, table: PollTable): string {
  return keyColumns(table)
    .map((c) => flavor.ident(c.name))
    .join(', ');
}

/** The statements of one dialect, from its flavor. */
export function buildSql(flavor: SqlFlavor): PollSql {
  return {
    dialect: flavor.dialect,
    checksum(table, range) {
      const params = new Params(flavor);
      const conditions = rangeConditions(flavor, params, table, range);
      return {
        text: `SELECT ${flavor.countRows()} AS ${flavor.ident('n')}, ${flavor.sumOf(flavor.rowHash(table.columns))} AS ${flavor.ident('s')} FROM ${tableName(flavor, table)}${where(conditions)}`,
        params: params.values,
      };
    },
    rows(table, range, limit) {
      const params = new Params(flavor);
      const conditions = rangeConditions(flavor, params, table, range);
      return {
        text: `SELECT ${selectList(flavor, table)} FROM ${tableName(flavor, table)}${where(conditions)} ${flavor.orderAndLimit(keyOrder(flavor, table), limit)}`,
        params: params.values,
      };
    },
    rowsByKey(table, keys) {
      if (keys.length === 0) throw new Error('rowsByKey needs at least one key');
      const params = new Params(flavor);
      const columns = keyColumns(table);
      let condition: string;
      if (columns.length === 1) {
        condition = `${flavor.ident(columns[0]!.name)} IN (${keys.map((k) => params.add(columns[0]!.kind, k[0]!)).join(', ')})`;
      } else if (flavor.rowValues) {
        const tuples = keys.map((k) => `(${columns.map((c, i) => params.add(c.kind, k[i]!)).join(', ')})`);
        condition = `(${columns.map((c) => flavor.ident(c.name)).join(', ')}) IN (${tuples.join(', ')})`;
      } else {
        condition = keys
          .map((k) => `(${columns.map((c, i) => `${flavor.ident(c.name)} = ${params.add(c.kind, k[i]!)}`).join(' AND ')})`)
          .join(' OR ');
      }
      return {
        text: `SELECT ${selectList(flavor, table)} FROM ${tableName(flavor, table)} WHERE ${condition} ${flavor.orderAndLimit(keyOrder(flavor, table), undefined)}`,
        params: params.values,
      };
    },
    changedSince(table, since, limit, after) {
      const hint = table.changed;
      if (!hint) throw new Error(`${table.table} has no hint column`);
      const params = new Params(flavor);
      const w = flavor.ident(hint.name);
      const conditions = [`${w} >= ${params.add(hint.kind, since)}`];
      if (after) conditions.push(compareKeys(flavor, params, [hint, ...keyColumns(table)], [after.hint, ...after.key], '>'));
      return {
        text:
          `SELECT ${selectList(flavor, table)}, ${flavor.selectColumn ? flavor.selectColumn(hint) : w} AS ${flavor.ident('w')} ` +
          `FROM ${tableName(flavor, table)}${where(conditions)} ${flavor.orderAndLimit(`${w}, ${keyOrder(flavor, table)}`, limit)}`,
        params: params.values,
      };
    },
    maxChanged(table) {
      const hint = table.changed;
      if (!hint) throw new Error(`${table.table} has no hint column`);
      return { text: `SELECT ${flavor.maxOf(hint)} AS ${flavor.ident('m')} FROM ${tableName(flavor, table)}`, params: [] };
    },
  };
}
