import type { Pgoutput } from 'pg-logical-replication';
import type { SourceColumnKind, SourceRow } from '../../src/mapping/types.ts';
import { kindForOid, pgTextToSourceValue } from './pg-types.ts';

/**
 * pgoutput's insert, update and delete messages, read straight into the capture's rows.
 *
 * pg-logical-replication reads each tuple into a dictionary-mode object (`Object.create(null)`),
 * a Buffer view per value and a string through a shared `TextDecoder`, and the capture then
 * copied that into a row of its own, converting each value by its column's kind. Here each
 * value is decoded from the message's bytes into the row directly (one object per image, built
 * in column order, so every row of a relation has the same shape).
 *
 * It also keeps a value that starts with U+FEFF: the library's `TextDecoder` drops a leading
 * byte order mark from every text value, so such a value streamed differently from the same
 * row read by a snapshot or a poll (node-postgres keeps it).
 *
 * The message layout (PostgreSQL's "Logical Replication Message Formats", protocol version 1):
 *   'I' relation:Int32 'N' TupleData
 *   'U' relation:Int32 ['K' TupleData | 'O' TupleData] 'N' TupleData
 *   'D' relation:Int32 ('K' | 'O') TupleData
 *   TupleData: columns:Int16, then per column 'n' (NULL) | 'u' (unchanged TOAST value, not
 *   sent) | 't' length:Int32 text | 'b' length:Int32 bytes.
 * Relation messages and everything else are still read by the library.
 */

export interface RowInsert {
  tag: 'insert';
  relationOid: number;
  new: SourceRow;
}

export interface RowUpdate {
  tag: 'update';
  relationOid: number;
  /** The old key (replica identity DEFAULT or INDEX, when the key changed): key columns only. */
  key: SourceRow | null;
  /** The old row (replica identity FULL). */
  old: SourceRow | null;
  new: SourceRow;
}

export interface RowDelete {
  tag: 'delete';
  relationOid: number;
  key: SourceRow | null;
  old: SourceRow | null;
}

export type RowMessage = RowInsert | RowUpdate | RowDelete;

/** What the capture handles: rows read here, everything else as the library reads it. */
export type StreamMessage = Exclude<Pgoutput.Message, Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete> | RowMessage;

interface RelationColumns {
  names: string[];
  kinds: SourceColumnKind[];
  /** Names of the replica identity columns (flag 1), the columns of a key tuple. */
  keyNames: string[];
}

const INSERT = 0x49; // 'I'
const UPDATE = 0x55; // 'U'
const DELETE = 0x44; // 'D'

export function isRowMessage(buffer: Uint8Array): boolean {
  const tag = buffer[0];
  return tag === INSERT || tag === UPDATE || tag === DELETE;
}

export class PgoutputRowReader {
  private readonly relations = new Map<number, RelationColumns>();
  private buffer: Buffer = Buffer.alloc(0);
  private at = 0;

  /** Every relation message passes here first (they always precede the relation's rows). */
  relation(message: Pgoutput.MessageRelation): void {
    this.relations.set(message.relationOid, {
      names: message.columns.map((c) => c.name),
      kinds: message.columns.map((c) => kindForOid(c.typeOid)),
      keyNames: message.columns.filter((c) => (c.flags & 1) === 1).map((c) => c.name),
    });
  }

  /** An 'I', 'U' or 'D' message (isRowMessage). Throws on a message it cannot read whole. */
  read(buffer: Buffer): RowMessage {
    this.buffer = buffer;
    this.at = 0;
    try {
      const tag = this.u8();
      const relationOid = this.int32() >>> 0;
      const relation = this.relations.get(relationOid);
      if (relation === undefined) throw new Error(`pgoutput change for relation ${relationOid} before its relation message`);
      let part = this.u8();
      if (tag === INSERT) {
        this.expect(part, 0x4e, 'insert');
        return { tag: 'insert', relationOid, new: this.tuple(relation, undefined) };
      }
      let key: SourceRow | null = null;
      let old: SourceRow | null = null;
      if (part === 0x4b /* K */) key = this.keyTuple(relation);
      else if (part === 0x4f /* O */) old = this.tuple(relation, undefined);
      else if (tag === DELETE || part !== 0x4e /* N */) throw new Error(`unknown ${tag === DELETE ? 'delete' : 'update'} part ${describeByte(part)}`);
      if (tag === DELETE) return { tag: 'delete', relationOid, key, old };
      if (key !== null || old !== null) {
        part = this.u8();
        this.expect(part, 0x4e, 'update');
      }
      // An unchanged TOAST value in the new image is the old image's value when there is one.
      return { tag: 'update', relationOid, key, old, new: this.tuple(relation, old ?? undefined) };
    } finally {
      this.buffer = EMPTY;
    }
  }

  private tuple(relation: RelationColumns, unchangedFrom: SourceRow | undefined): SourceRow {
    const count = this.int16();
    const { names, kinds } = relation;
    if (count > names.length) throw new Error(`tuple of ${count} columns for a relation of ${names.length}`);
    const row: SourceRow = {};
    for (let i = 0; i < count; i++) {
      const name = names[i]!;
      const kind = this.u8();
      if (kind === 0x74 /* t */) {
        const length = this.int32();
        const start = this.at;
        this.skip(length);
        row[name] = pgTextToSourceValue(kinds[i]!, this.buffer.toString('utf8', start, this.at));
      } else if (kind === 0x6e /* n */) {
        row[name] = null;
      } else if (kind === 0x75 /* u */) {
        (row as Record<string, unknown>)[name] = unchangedFrom?.[name];
      } else {
        // 'b' (binary) is sent only when the stream asks for it, which this capture never does.
        throw new Error(`column ${name}: unexpected tuple value kind ${describeByte(kind)}`);
      }
    }
    return row;
  }

  /** A key tuple holds every column, non-key ones as NULL placeholders: only the key is kept. */
  private keyTuple(relation: RelationColumns): SourceRow {
    const all = this.tuple(relation, undefined);
    const key: SourceRow = {};
    for (const name of relation.keyNames) {
      const value = all[name];
      (key as Record<string, unknown>)[name] = value === null ? undefined : value;
    }
    return key;
  }

  private u8(): number {
    this.skip(1);
    return this.buffer[this.at - 1]!;
  }

  private int16(): number {
    this.skip(2);
    return this.buffer.readInt16BE(this.at - 2);
  }

  private int32(): number {
    this.skip(4);
    return this.buffer.readInt32BE(this.at - 4);
  }

  private skip(n: number): void {
    if (n < 0 || this.at + n > this.buffer.length) throw new Error(`pgoutput message ends early (${this.buffer.length} bytes)`);
    this.at += n;
  }

  private expect(part: number, wanted: number, what: string): void {
    if (part !== wanted) throw new Error(`unknown ${what} part ${describeByte(part)}`);
  }
}

const EMPTY = Buffer.alloc(0);

function describeByte(byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? `'${String.fromCharCode(byte)}'` : `0x${byte.toString(16)}`;
}
