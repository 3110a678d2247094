/**
 * A modern MySQL / MariaDB database as the target, holding the mapped rows the way the
 * postgres target does (sides/postgres-target.ts): a table named by the entity in the
 * connection's database, one column per mapped field named like the field, and optionally a
 * text column `hms_position` with the position of the envelope that wrote the row.
 *
 * Unlike the PostgreSQL target, the checksums are not computed in SQL: this side reads the
 * table once (keyset order is not needed, one streaming SELECT), normalizes each row with
 * normalize.ts in the bridge and keeps its canonical key and hash in an IndexedSide, as the
 * stream side does. Porting the canonical-text SQL (trim_scale, UTC timestamps, base64) to
 * MySQL's dialect is left for when a large MySQL target needs it (docs/reconciliation.md).
 */
import type mysql from 'mysql2/promise';
import { classifyMysqlError, connectMysql, describeServer, parseMysqlUrl, quoteIdent, quoteTable, queryRows } from '../../capture/mysql/connection.ts';
import { HmsSyncError } from '../../src/errors.ts';
import type { FieldSpec, JsonObject, JsonValue } from '../../src/mapping/types.ts';
import { IndexedSide, type IndexEntry } from '../indexed-side.ts';
import { hashRow, keyObjectOf, rowKey } from '../normalize.ts';
import type { CompareSpec, KeyRef, SideRow } from '../types.ts';
import { POSITION_COLUMN } from './postgres-target.ts';

interface TargetColumn {
  name: string;
  dataType: string;
}

const KEYS_PER_QUERY = 500;

export class MysqlTargetSide {
  scanned = 0;

  private constructor(
    private readonly connection: mysql.Connection,
    private readonly spec: CompareSpec,
    /** Quoted `database`.`entity`. */
    private readonly table: string,
    private readonly columns: Map<string, TargetColumn>,
    private readonly hasPosition: boolean,
    readonly where: string,
  ) {}

  static async open(url: string, entity: string, spec: CompareSpec): Promise<MysqlTargetSide> {
    const where = describeServer(url);
    const database = parseMysqlUrl(url).database;
    if (database === undefined) throw new HmsSyncError('CONFIG', `reconcile.target: the mysql url names no database (mysql://user:pass@host:port/<database>)`);
    const connection = await connectMysql(url, where);
    try {
      const rows = await queryRows<{ name: string; dataType: string }>(
        connection,
        'SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
        [database, entity],
      );
      if (rows.length === 0) {
        throw new HmsSyncError('SOURCE_STATE', `reconcile target ${where}: no table "${entity}" (the target holds one table per entity, named like it)`);
      }
      const columns = new Map(rows.map((r) => [r.name, { name: r.name, dataType: r.dataType.toLowerCase() }]));
      const missing = spec.fields.filter((f) => !columns.has(f.name)).map((f) => `"${f.name}"`);
      if (missing.length > 0) {
        throw new HmsSyncError('SOURCE_STATE', `reconcile target ${where}: table "${entity}" has no column ${missing.join(', ')} (one column per mapped field)`);
      }
      return new MysqlTargetSide(connection, spec, quoteTable(database, entity), columns, columns.has(POSITION_COLUMN), where);
    } catch (error) {
      await connection.end().catch(() => undefined);
      throw error instanceof HmsSyncError ? error : classifyMysqlError(error, where);
    }
  }

  private selectList(): string {
    const names = this.spec.fields.map((f) => quoteIdent(f.name));
    if (this.hasPosition) names.push(quoteIdent(POSITION_COLUMN));
    return names.join(', ');
  }

  /** One target row (columns as raw bytes) as mapped values, keeping the key columns' own text. */
  private toRow(raw: Array<Buffer | null>): { values: JsonObject; position?: string; keyText: string[] } {
    const values: JsonObject = {};
    this.spec.fields.forEach((field, i) => {
      values[field.name] = targetValue(field, this.columns.get(field.name)!, raw[i] ?? null);
    });
    const position = this.hasPosition ? raw[this.spec.fields.length]?.toString('utf8') : undefined;
    const keyText = this.spec.keyFields.map((f) => raw[this.spec.fields.indexOf(f)]?.toString('hex') ?? '');
    return { values, ...(position !== undefined ? { position } : {}), keyText };
  }

  async scan(signal: AbortSignal): Promise<IndexedSide> {
    const entries: IndexEntry[] = [];
    let raw: Array<Array<Buffer | null>>;
    try {
      const [result] = await this.connection.query({ sql: `SELECT ${this.selectList()} FROM ${this.table}`, rowsAsArray: true, typeCast: false });
      raw = result as Array<Array<Buffer | null>>;
    } catch (error) {
      throw classifyMysqlError(error, `reconcile target ${this.where}`);
    }
    for (const values of raw) {
      signal.throwIfAborted();
      this.scanned += 1;
      const row = this.toRow(values);
      const [hi, lo] = hashRow(this.spec, row.values);
      // The key columns' stored bytes (hex) let a re-read match them exactly, whatever the
      // canonical text of the key looks like (a DATETIME key, a padded CHAR).
      entries.push({ key: rowKey(this.spec, row.values), keyObject: keyObjectOf(this.spec, row.values), hi, lo, sourceKey: row.keyText, ...(row.position !== undefined ? { position: row.position } : {}) });
    }
    const index = new IndexedSide('target', this.spec, entries, (list) => this.readByStoredKey(list.map((e) => e.sourceKey!)));
    // Re-checks after the catch-up wait read the rows as they are now.
    return Object.assign(index, {
      rowsByKey: async (keys: readonly KeyRef[]): Promise<SideRow[]> => {
        const stored = keys.map((k) => index.entry(k.key)?.sourceKey).filter((k): k is string[] => k !== undefined);
        return stored.length === 0 ? [] : this.readByStoredKey(stored);
      },
    });
  }

  private async readByStoredKey(keys: string[][]): Promise<SideRow[]> {
    const keyList = this.spec.keyFields.map((f) => quoteIdent(f.name)).join(', ');
    const rows: SideRow[] = [];
    for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
      const chunk = keys.slice(i, i + KEYS_PER_QUERY);
      const params: Buffer[] = [];
      const tuples = chunk.map((key) => `(${key.map((hex) => (params.push(Buffer.from(hex, 'hex')), '?')).join(', ')})`);
      let raw: Array<Array<Buffer | null>>;
      try {
        const [result] = await this.connection.query({
          sql: `SELECT ${this.selectList()} FROM ${this.table} WHERE (${keyList}) IN (${tuples.join(', ')})`,
          values: params,
          rowsAsArray: true,
          typeCast: false,
        });
        raw = result as Array<Array<Buffer | null>>;
      } catch (error) {
        throw classifyMysqlError(error, `reconcile target ${this.where}`);
      }
      for (const values of raw) {
        const row = this.toRow(values);
        rows.push({ values: row.values, ...(row.position !== undefined ? { position: row.position } : {}) });
      }
    }
    return rows;
  }

  async close(): Promise<void> {
    await this.connection.end().catch(() => undefined);
  }
}

/** A target column's bytes as the mapped value normalize.ts expects for the field's type. */
export function targetValue(field: FieldSpec, column: TargetColumn, raw: Buffer | null): JsonValue {
  if (raw === null) return null;
  if (field.type === 'bytes') return raw.toString('base64');
  const text = raw.toString('utf8');
  if (field.type === 'boolean' && (column.dataType === 'tinyint' || column.dataType === 'bit')) {
    const n = column.dataType === 'bit' ? raw.readUIntBE(0, Math.min(raw.length, 6)) : Number(text);
    return n !== 0;
  }
  return text;
}
