import pg from 'pg';
import type { Envelope } from '../../envelope/index.ts';
import { keyToken } from '../../envelope/index.ts';
import { errorMessage } from '../../errors.ts';
import type { FieldType, JsonObject, JsonValue } from '../../mapping/types.ts';
import { quoteIdent } from '../../util/sql-quote.ts';
import type { EntityFieldTypes, SubscriberSink } from './index.ts';

/** Per (entity, key token): the position of the last envelope applied, deletes included. */
export const POSITIONS_TABLE = 'hms_sync_positions';
/** The positions row of a TRUNCATE (`_truncate` is a token no key encodes to). */
const TRUNCATE_KEY = '_truncate';
const POSITION_COLUMN = 'hms_position';
const UPDATED_COLUMN = 'hms_updated_at';

const SQL_TYPES: Record<FieldType, string> = {
  string: 'text',
  integer: 'bigint',
  bigint: 'numeric',
  decimal: 'numeric',
  boolean: 'boolean',
  date: 'date',
  timestamp: 'timestamptz',
  json: 'jsonb',
  bytes: 'bytea',
};

export interface PostgresSinkOptions {
  url: string;
  /** Connect and statement timeout. */
  timeoutMs: number;
  fieldTypes: EntityFieldTypes;
}

function describe(url: string): string {
  try {
    const u = new URL(url);
    return `postgres ${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'postgres (unparseable url)';
  }
}

/**
 * Keeps a modern copy: one table per entity, named like it, one column per mapped field
 * named like the field (typed from the mapping file where the bridge has it), the key fields
 * as primary key, plus `hms_position` and `hms_updated_at`. That is the shape the
 * reconciliation's postgres target reads (reconcile/sides/postgres-target.ts).
 *
 * Last write wins by position, never by arrival: each envelope first moves its key's row in
 * `hms_sync_positions` forward, and only when that succeeds (its position is greater than the
 * one held, and than the entity's last TRUNCATE) is the row written or deleted, in the same
 * transaction. A deleted key keeps its positions row, so an older update replayed after the
 * delete cannot bring the row back. Positions compare as plain strings (`COLLATE "C"`), as
 * DESIGN.md "Envelope" promises they sort.
 */
export class PostgresSink implements SubscriberSink {
  private client: pg.Client | undefined;
  private positionsReady = false;
  /** entity -> column -> type name, as the catalog has them. */
  private readonly tables = new Map<string, Map<string, string>>();
  private readonly where: string;

  constructor(private readonly options: PostgresSinkOptions) {
    this.where = describe(options.url);
  }

  async deliver(envelope: Envelope, _raw: Uint8Array, _signal?: AbortSignal): Promise<void> {
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      await this.apply(client, envelope);
      await client.query('COMMIT');
    } catch (error) {
      // A failed statement may leave the session in any state, and the cached table shape may
      // be what was wrong: start the next attempt from a fresh connection and catalog read.
      this.tables.delete(envelope.entity);
      await this.drop();
      throw new Error(`${this.where}: ${errorMessage(error)}`, { cause: error });
    }
  }

  async check(): Promise<void> {
    const client = new pg.Client(this.clientConfig());
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
    } catch (error) {
      throw new Error(`${this.where}: ${errorMessage(error)}`, { cause: error });
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.drop();
  }

  private clientConfig(): pg.ClientConfig {
    return {
      connectionString: this.options.url,
      application_name: 'hms-sync-subscriber',
      connectionTimeoutMillis: this.options.timeoutMs,
      options: `-c TimeZone=UTC -c statement_timeout=${this.options.timeoutMs}`,
    };
  }

  private async connect(): Promise<pg.Client> {
    if (this.client !== undefined) return this.client;
    const client = new pg.Client(this.clientConfig());
    // An idle client whose server goes away emits 'error'; the next query fails and reconnects.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw new Error(`${this.where}: ${errorMessage(error)}`, { cause: error });
    }
    this.client = client;
    this.positionsReady = false;
    return client;
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async apply(client: pg.Client, envelope: Envelope): Promise<void> {
    if (!this.positionsReady) {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${POSITIONS_TABLE} (
           entity text NOT NULL,
           key text NOT NULL,
           position text COLLATE "C" NOT NULL,
           op text NOT NULL,
           envelope_id text NOT NULL,
           updated_at timestamptz NOT NULL DEFAULT now(),
           PRIMARY KEY (entity, key))`,
      );
      this.positionsReady = true;
    }
    const position = envelope.source.position;
    if (envelope.op === 't') {
      if (!(await this.advance(client, envelope.entity, TRUNCATE_KEY, envelope))) return;
      const columns = await this.columns(client, envelope.entity);
      if (columns !== undefined) {
        await client.query(`DELETE FROM ${quoteIdent(envelope.entity)} WHERE ${POSITION_COLUMN} COLLATE "C" < $1`, [position]);
      }
      await client.query(`DELETE FROM ${POSITIONS_TABLE} WHERE entity = $1 AND key <> $2 AND position < $3`, [
        envelope.entity,
        TRUNCATE_KEY,
        position,
      ]);
      return;
    }
    if (envelope.key === null) throw new Error(`envelope ${envelope.id}: op ${envelope.op} without a key`);
    const token = keyToken(Object.values(envelope.key));
    if (!(await this.advance(client, envelope.entity, token, envelope))) return;
    if (envelope.op === 'd') {
      const columns = await this.columns(client, envelope.entity);
      if (columns === undefined) return;
      const params: unknown[] = [];
      const where = this.keyPredicate(envelope.key, columns, params);
      await client.query(`DELETE FROM ${quoteIdent(envelope.entity)} WHERE ${where}`, params);
      return;
    }
    if (envelope.after === null) throw new Error(`envelope ${envelope.id}: op ${envelope.op} without an after image`);
    const row: JsonObject = { ...envelope.key, ...envelope.after };
    const columns = await this.ensureTable(client, envelope.entity, Object.keys(envelope.key), row);
    const names = Object.keys(row);
    const params: unknown[] = [];
    const values = names.map((name) => this.bind(row[name]!, columns.get(name)!, params));
    params.push(position);
    const keyList = Object.keys(envelope.key).map(quoteIdent).join(', ');
    const updates = names
      .filter((name) => !(name in envelope.key!))
      .map((name) => `${quoteIdent(name)} = EXCLUDED.${quoteIdent(name)}`)
      .concat([`${POSITION_COLUMN} = EXCLUDED.${POSITION_COLUMN}`, `${UPDATED_COLUMN} = now()`]);
    await client.query(
      `INSERT INTO ${quoteIdent(envelope.entity)} (${[...names.map(quoteIdent), POSITION_COLUMN].join(', ')})
       VALUES (${[...values, `$${params.length}`].join(', ')})
       ON CONFLICT (${keyList}) DO UPDATE SET ${updates.join(', ')}`,
      params,
    );
  }

  /**
   * Moves the key's position forward; false when the envelope is not newer than what is held
   * (a replay, or an older change arriving late) or than the entity's last TRUNCATE.
   */
  private async advance(client: pg.Client, entity: string, key: string, envelope: Envelope): Promise<boolean> {
    const { rowCount } = await client.query(
      `INSERT INTO ${POSITIONS_TABLE} AS p (entity, key, position, op, envelope_id)
       SELECT $1, $2, $3, $4, $5
        WHERE NOT EXISTS (SELECT 1 FROM ${POSITIONS_TABLE} t WHERE t.entity = $1 AND t.key = $6 AND t.position >= $3)
       ON CONFLICT (entity, key) DO UPDATE
          SET position = EXCLUDED.position, op = EXCLUDED.op, envelope_id = EXCLUDED.envelope_id, updated_at = now()
        WHERE p.position < EXCLUDED.position`,
      [entity, key, envelope.source.position, envelope.op, envelope.id, TRUNCATE_KEY],
    );
    return rowCount === 1;
  }

  private bind(value: JsonValue, typname: string, params: unknown[]): string {
    if (value === null) params.push(null);
    else if (typname === 'json' || typname === 'jsonb' || typeof value === 'object') params.push(JSON.stringify(value));
    else params.push(String(value));
    return typname === 'bytea' && value !== null ? `decode($${params.length}, 'base64')` : `$${params.length}`;
  }

  private keyPredicate(key: JsonObject, columns: Map<string, string>, params: unknown[]): string {
    return Object.entries(key)
      .map(([name, value]) => `${quoteIdent(name)} = ${this.bind(value, columns.get(name) ?? 'text', params)}`)
      .join(' AND ');
  }

  /** The table's columns, or undefined when there is no such table. */
  private async columns(client: pg.Client, entity: string): Promise<Map<string, string> | undefined> {
    const cached = this.tables.get(entity);
    if (cached !== undefined) return cached;
    const { rows } = await client.query<{ attname: string; typname: string }>(
      `SELECT a.attname, t.typname
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
      [quoteIdent(entity)],
    );
    if (rows.length === 0) return undefined;
    const columns = new Map(rows.map((r) => [r.attname, r.typname]));
    this.tables.set(entity, columns);
    return columns;
  }

  private sqlType(entity: string, field: string, value: JsonValue): string {
    const type = this.options.fieldTypes(entity)?.get(field);
    if (type !== undefined) return SQL_TYPES[type];
    // A field no mapping file of this bridge describes (another bridge's entity, `extra`):
    // the JSON value's own kind.
    if (typeof value === 'number') return 'numeric';
    if (typeof value === 'boolean') return 'boolean';
    if (value !== null && typeof value === 'object') return 'jsonb';
    return 'text';
  }

  /** Creates the table, or adds the columns it lacks; a DBA's own table and types are kept. */
  private async ensureTable(client: pg.Client, entity: string, keyFields: string[], row: JsonObject): Promise<Map<string, string>> {
    let columns = await this.columns(client, entity);
    if (columns === undefined) {
      const definitions = Object.keys(row).map((name) => `${quoteIdent(name)} ${this.sqlType(entity, name, row[name]!)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${quoteIdent(entity)} (
           ${definitions.join(',\n           ')},
           ${POSITION_COLUMN} text COLLATE "C" NOT NULL,
           ${UPDATED_COLUMN} timestamptz NOT NULL DEFAULT now(),
           PRIMARY KEY (${keyFields.map(quoteIdent).join(', ')}))`,
      );
      this.tables.delete(entity);
      columns = (await this.columns(client, entity))!;
    }
    const known = columns;
    const missing = Object.keys(row).filter((name) => !known.has(name));
    const bookkeeping = [
      [POSITION_COLUMN, 'text COLLATE "C"'],
      [UPDATED_COLUMN, 'timestamptz DEFAULT now()'],
    ].filter(([name]) => !known.has(name!));
    if (missing.length > 0 || bookkeeping.length > 0) {
      for (const name of missing) {
        await client.query(`ALTER TABLE ${quoteIdent(entity)} ADD COLUMN IF NOT EXISTS ${quoteIdent(name)} ${this.sqlType(entity, name, row[name]!)}`);
      }
      for (const [name, type] of bookkeeping) await client.query(`ALTER TABLE ${quoteIdent(entity)} ADD COLUMN IF NOT EXISTS ${name} ${type}`);
      this.tables.delete(entity);
      columns = (await this.columns(client, entity))!;
    }
    return columns;
  }
}
