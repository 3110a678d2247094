// The legacy application at work: inserts, updates and deletes on the three demo tables, in
// small transactions and now and then a larger one, at a steady number of changes a second.
// It counts what it committed, so the demo can tell whether every change reached the stream.
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { quoteIdent } from '../servers/index.ts';
import { rowKey, type LegacyRow, type LegacyRowGenerator } from './legacy-rows.ts';
import { insertStatement, qualified, type LegacyTable } from './legacy-schema.ts';

export type ChangeOp = 'c' | 'u' | 'd';

export interface WorkloadCounts {
  transactions: number;
  /** Committed row changes, the impossible row included. */
  changes: number;
  /** Committed changes by table name and op, the impossible row excluded. */
  byTable: Map<string, Record<ChangeOp, number>>;
  /** Committed changes the mapping must refuse (they go to the dead-letter subject). */
  unmappable: number;
  largestTransaction: number;
}

export interface WorkloadOptions {
  /** A superuser connection to the legacy database (the legacy application's own). */
  client: pg.Client;
  tables: readonly LegacyTable[];
  /** The rows the tables hold now; the workload keeps this up to date. */
  rows: Map<LegacyTable, Map<string, LegacyRow>>;
  generator: LegacyRowGenerator;
  random: () => number;
  ratePerSecond: number;
  /** After this many changes, one insert of a row with an impossible date. */
  unmappableAfter: number;
}

interface PlannedChange {
  table: LegacyTable;
  op: ChangeOp;
  row: LegacyRow;
  /** For `u`: the columns it sets. */
  set?: LegacyRow;
  unmappable?: boolean;
}

/** Every this many transactions, one of LARGE_SIZE changes instead of one to three. */
const LARGE_EVERY = 8;
const LARGE_SIZE = { min: 12, max: 25 };

export class Workload {
  readonly counts: WorkloadCounts;

  constructor(private readonly options: WorkloadOptions) {
    const byTable = new Map(options.tables.map((t) => [t.name, { c: 0, u: 0, d: 0 }]));
    this.counts = { transactions: 0, changes: 0, byTable, unmappable: 0, largestTransaction: 0 };
  }

  /** Runs until the signal aborts; a failed statement ends it with that error. */
  async run(signal: AbortSignal): Promise<void> {
    const started = performance.now();
    while (!signal.aborted) {
      const due = started + (this.counts.changes / this.options.ratePerSecond) * 1000;
      const wait = due - performance.now();
      if (wait > 0) {
        try {
          await sleep(wait, undefined, { signal });
        } catch {
          return;
        }
      }
      await this.#commit(this.#plan());
    }
  }

  #plan(): PlannedChange[] {
    const { generator, random } = this.options;
    if (this.counts.unmappable === 0 && this.counts.changes >= this.options.unmappableAfter) {
      return [{ table: this.options.tables[0]!, op: 'c', row: generator.impossibleInspection(), unmappable: true }];
    }
    const large = (this.counts.transactions + 1) % LARGE_EVERY === 0;
    const size = large
      ? LARGE_SIZE.min + Math.floor(random() * (LARGE_SIZE.max - LARGE_SIZE.min + 1))
      : random() < 0.6 ? 1 : random() < 0.6 ? 2 : 3;
    const changes: PlannedChange[] = [];
    for (let i = 0; i < size; i++) changes.push(this.#planOne());
    return changes;
  }

  /** One change, applied to the bookkeeping at once so a later change in the same transaction sees it. */
  #planOne(): PlannedChange {
    const { tables, rows, generator, random } = this.options;
    const table = tables[Math.floor(random() * tables.length)]!;
    const current = rows.get(table)!;
    const op = chooseOp(current.size, random());
    if (op === 'c') {
      const row = generator.newRow(table);
      current.set(rowKey(table, row), row);
      return { table, op, row };
    }
    const keys = [...current.keys()];
    const key = keys[Math.floor(random() * keys.length)]!;
    const row = current.get(key)!;
    if (op === 'd') {
      current.delete(key);
      return { table, op, row };
    }
    const set = generator.changes(table, row);
    current.set(key, { ...row, ...set });
    return { table, op, row, set };
  }

  async #commit(changes: PlannedChange[]): Promise<void> {
    const { client } = this.options;
    await client.query('BEGIN');
    try {
      for (const change of changes) {
        const { text, values } = statement(change);
        const result = await client.query(text, values);
        if (result.rowCount !== 1) {
          throw new Error(`demo workload: ${text} changed ${result.rowCount} rows of ${change.table.name}, expected 1`);
        }
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    this.counts.transactions += 1;
    this.counts.changes += changes.length;
    this.counts.largestTransaction = Math.max(this.counts.largestTransaction, changes.length);
    for (const change of changes) {
      if (change.unmappable) this.counts.unmappable += 1;
      else this.counts.byTable.get(change.table.name)![change.op] += 1;
    }
  }
}

/** Keeps each table near its seed size: grow a small table, shrink a large one. */
function chooseOp(size: number, roll: number): ChangeOp {
  if (size === 0) return 'c';
  const [create, update] = size < 30 ? [0.5, 0.9] : size > 50 ? [0.1, 0.6] : [0.25, 0.8];
  return roll < create ? 'c' : roll < update ? 'u' : 'd';
}

function statement(change: PlannedChange): { text: string; values: unknown[] } {
  const { table, op, row } = change;
  if (op === 'c') return insertStatement(table, row);
  const keyValues = table.keyColumns.map((c) => row[c]);
  if (op === 'd') {
    const where = table.keyColumns.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(' AND ');
    return { text: `DELETE FROM ${qualified(table)} WHERE ${where}`, values: keyValues };
  }
  const set = Object.entries(change.set ?? {});
  const assignments = set.map(([column], i) => `${quoteIdent(column)} = $${i + 1}`).join(', ');
  const where = table.keyColumns.map((c, i) => `${quoteIdent(c)} = $${set.length + i + 1}`).join(' AND ');
  return { text: `UPDATE ${qualified(table)} SET ${assignments} WHERE ${where}`, values: [...set.map(([, v]) => v), ...keyValues] };
}
