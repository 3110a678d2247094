// pgoutput messages (protocol version 1) built byte by byte, as a walsender sends them, and the
// capture's reading of them before it had its own reader: for the row reader's unit test (its
// oracle) and its micro-benchmark (its baseline).
import { PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { kindForOid, pgTextToSourceValue } from '../../capture/postgres/pg-types.ts';
import type { SourceRow } from '../../src/mapping/types.ts';

export interface MessageColumn {
  name: string;
  /** Type OID (23 integer, 25 text, 1700 numeric, ...). */
  oid: number;
  /** Part of the replica identity (flag 1). */
  key: boolean;
}

/** A column value in a tuple: text, NULL, or an unchanged TOAST value the server left out. */
export type TupleValue = string | null | typeof UNCHANGED;
export const UNCHANGED = Symbol('unchanged TOAST value');

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

const cstring = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
const byte = (c: string): Buffer => Buffer.from(c, 'latin1');

export function relationMessage(oid: number, schema: string, name: string, columns: MessageColumn[]): Buffer {
  return Buffer.concat([
    byte('R'),
    int32(oid),
    cstring(schema),
    cstring(name),
    byte('d'),
    int16(columns.length),
    ...columns.flatMap((c) => [Buffer.from([c.key ? 1 : 0]), cstring(c.name), int32(c.oid), int32(-1)]),
  ]);
}

export function tuple(values: TupleValue[]): Buffer {
  return Buffer.concat([
    int16(values.length),
    ...values.map((v) => {
      if (v === null) return byte('n');
      if (v === UNCHANGED) return byte('u');
      const bytes = Buffer.from(v, 'utf8');
      return Buffer.concat([byte('t'), int32(bytes.length), bytes]);
    }),
  ]);
}

export function insertMessage(oid: number, values: TupleValue[]): Buffer {
  return Buffer.concat([byte('I'), int32(oid), byte('N'), tuple(values)]);
}

export function updateMessage(oid: number, values: TupleValue[], prior?: { part: 'K' | 'O'; values: TupleValue[] }): Buffer {
  return Buffer.concat([byte('U'), int32(oid), ...(prior ? [byte(prior.part), tuple(prior.values)] : []), byte('N'), tuple(values)]);
}

export function deleteMessage(oid: number, part: 'K' | 'O', values: TupleValue[]): Buffer {
  return Buffer.concat([byte('D'), int32(oid), byte(part), tuple(values)]);
}

/** Raw bytes after a message tag and relation OID, for messages no builder makes (bad ones). */
export function rawMessage(tag: string, oid: number, ...rest: Buffer[]): Buffer {
  return Buffer.concat([byte(tag), int32(oid), ...rest]);
}

export { byte, int16, int32 };

/**
 * pg-logical-replication's parser with its type parsers off, and each tuple it reads converted
 * by column kind the way the capture did before capture/postgres/pgoutput-rows.ts (an unchanged
 * TOAST value, undefined, kept as such).
 */
export class LibraryRowReading {
  private readonly plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: ['p'] });
  private readonly kinds = new Map<string, ReturnType<typeof kindForOid>>();

  constructor(relation: Buffer) {
    const parsed = this.plugin.parse(relation) as Pgoutput.MessageRelation;
    for (const column of parsed.columns) {
      column.parser = (text: string) => text;
      this.kinds.set(column.name, kindForOid(column.typeOid));
    }
  }

  /** The library's message for these bytes (insert, update or delete). */
  parse(buffer: Buffer): Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete {
    return this.plugin.parse(buffer) as Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete;
  }

  row(tuple: Record<string, unknown>): SourceRow {
    const out: SourceRow = {};
    for (const name of Object.keys(tuple)) {
      const value = tuple[name];
      (out as Record<string, unknown>)[name] = value === undefined ? undefined : pgTextToSourceValue(this.kinds.get(name) ?? 'other', value as string | null);
    }
    return out;
  }
}
