import type { SourceRow, SourceValue } from '../../src/mapping/types.ts';

/**
 * The last value seen for each (table, key, column) of values large enough to be TOASTed.
 *
 * pgoutput leaves an unchanged out-of-line value out of an update. Reading it back from the
 * table gives the value as of *now*, which is wrong for a bridge that lags (the row may have
 * changed again, or be gone). The stream sees every change of a key in commit order, so the
 * value carried from the key's previous change is exactly the unchanged value. Bounded by
 * bytes (least recently used first out); after a restart or an eviction the capture falls
 * back to reading by key.
 */
export class ToastCarry {
  private readonly entries = new Map<string, Map<string, Exclude<SourceValue, null>>>();
  private bytes = 0;

  constructor(
    private readonly budgetBytes: number,
    /** Values shorter than this are always sent inline and never need carrying. */
    private readonly minLength = 1000,
  ) {}

  /**
   * Remembers the row's large values under its key (and forgets what the key held before).
   * The key is asked for only when needed: this runs for every inserted and updated row, and
   * most rows have no large value while nothing is carried at all.
   */
  remember(row: SourceRow, rowKey: () => string): void {
    let values: Map<string, Exclude<SourceValue, null>> | undefined;
    for (const column in row) {
      const value = row[column];
      if (value === null || value === undefined || value.length < this.minLength) continue;
      values ??= new Map();
      values.set(column, value);
    }
    if (!values) {
      if (!this.empty) this.forget(rowKey());
      return;
    }
    const key = rowKey();
    this.forget(key);
    this.entries.set(key, values);
    for (const value of values.values()) this.bytes += value.length;
    while (this.bytes > this.budgetBytes && this.entries.size > 0) {
      this.forget(this.entries.keys().next().value as string);
    }
  }

  /** The carried values of `columns`, or undefined unless every one of them is known. */
  recall(rowKey: string, columns: string[]): SourceRow | undefined {
    const values = this.entries.get(rowKey);
    if (!values) return undefined;
    const out: SourceRow = {};
    for (const column of columns) {
      const value = values.get(column);
      if (value === undefined) return undefined;
      out[column] = value;
    }
    // Recently used keys stay longest.
    this.entries.delete(rowKey);
    this.entries.set(rowKey, values);
    return out;
  }

  /** Nothing carried: a caller may skip building a key to forget. */
  get empty(): boolean {
    return this.entries.size === 0;
  }

  forget(rowKey: string): void {
    const values = this.entries.get(rowKey);
    if (!values) return;
    for (const value of values.values()) this.bytes -= value.length;
    this.entries.delete(rowKey);
  }
}
