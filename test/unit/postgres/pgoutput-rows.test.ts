// pgoutput row messages read by the capture's own reader, checked against pg-logical-replication's
// parser on the same bytes (the reader replaced it for inserts, updates and deletes): the same
// rows, value for value, but for a leading U+FEFF, which the library drops and the reader keeps.
import { PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { describe, expect, it } from 'vitest';
import { PgoutputRowReader, isRowMessage, type RowMessage } from '../../../capture/postgres/pgoutput-rows.ts';
import { TextPgoutputPlugin } from '../../../capture/postgres/wal-stream.ts';
import {
  byte,
  deleteMessage,
  insertMessage,
  int16,
  int32,
  LibraryRowReading,
  rawMessage,
  relationMessage as relation,
  tuple,
  updateMessage,
  UNCHANGED,
  type TupleValue,
} from '../../support/pgoutput-messages.ts';

type Value = TupleValue;

const COLUMNS = [
  { name: 'id', oid: 23, key: true },
  { name: 'code', oid: 1043, key: true },
  { name: 'flag', oid: 16, key: false },
  { name: 'blob', oid: 17, key: false },
  { name: 'note', oid: 25, key: false },
  { name: 'amount', oid: 1700, key: false },
];
const OID = 16_401;

const relationMessage = (oid = OID): Buffer => relation(oid, 'public', 'legacy', COLUMNS);
const insert = (values: Value[], oid = OID): Buffer => insertMessage(oid, values);
const update = (values: Value[], prior?: { part: 'K' | 'O'; values: Value[] }): Buffer => updateMessage(OID, values, prior);
const del = (part: 'K' | 'O', values: Value[]): Buffer => deleteMessage(OID, part, values);

/** The library's reading of the same bytes, converted the way the capture converted it before. */
class LibraryReading {
  private readonly library = new LibraryRowReading(relationMessage());

  read(buffer: Buffer): unknown {
    const message = this.library.parse(buffer);
    const row = (tuple: Record<string, unknown> | null) => (tuple === null ? null : this.library.row(tuple));
    if (message.tag === 'insert') return { tag: 'insert', relationOid: OID, new: row(message.new) };
    if (message.tag === 'update') return { tag: 'update', relationOid: OID, key: row(message.key), old: row(message.old), new: row(message.new) };
    return { tag: 'delete', relationOid: OID, key: row(message.key), old: row(message.old) };
  }
}

function ours(): PgoutputRowReader {
  const reader = new PgoutputRowReader();
  const relation = new PgoutputPlugin({ protoVersion: 1, publicationNames: ['p'] }).parse(relationMessage()) as Pgoutput.MessageRelation;
  reader.relation(relation);
  return reader;
}

const FULL: Value[] = ['42', 'B-1042', 't', '\\x00ff10', 'caf\u00e9 \u{1F600} \u6f22\u5b57 x\u200dy', '12345678901234567890.0123456789'];
const OTHER: Value[] = ['43', 'B-1043', 'f', '\\x', '', '-0.0000000001'];
const NULLS: Value[] = ['44', 'B-1044', null, null, null, null];
const WITH_UNCHANGED: Value[] = ['42', 'B-1042', 'f', UNCHANGED, UNCHANGED, '1'];
const KEY_ONLY: Value[] = ['42', 'B-1042', null, null, null, null];

describe('pgoutput row reader', () => {
  const messages: Array<[string, Buffer]> = [
    ['insert', insert(FULL)],
    ['insert of empty values', insert(OTHER)],
    ['insert of NULLs', insert(NULLS)],
    ['update, new image only', update(OTHER)],
    ['update with unchanged TOAST values', update(WITH_UNCHANGED)],
    ['update with the old key', update(FULL, { part: 'K', values: KEY_ONLY })],
    ['update with the old row (FULL)', update(OTHER, { part: 'O', values: FULL })],
    ['update with the old row and unchanged values taken from it', update(WITH_UNCHANGED, { part: 'O', values: FULL })],
    ['update with unchanged values in the old row too', update(WITH_UNCHANGED, { part: 'O', values: WITH_UNCHANGED })],
    ['delete by key', del('K', KEY_ONLY)],
    ['delete by key, a NULL key column', del('K', ['42', null, null, null, null, null])],
    ['delete with the old row', del('O', FULL)],
  ];

  it.each(messages)('reads %s as the library does', (_what, buffer) => {
    expect(isRowMessage(buffer)).toBe(true);
    const mine = ours().read(buffer);
    expect(mine).toStrictEqual(new LibraryReading().read(buffer));
  });

  it('reads values exactly: bytea as bytes, booleans as text, unchanged TOAST as undefined', () => {
    const message = ours().read(update(WITH_UNCHANGED, { part: 'K', values: KEY_ONLY })) as Extract<RowMessage, { tag: 'update' }>;
    expect(message.key).toStrictEqual({ id: '42', code: 'B-1042' });
    expect(Object.keys(message.new)).toEqual(COLUMNS.map((c) => c.name));
    expect(message.new).toStrictEqual({ id: '42', code: 'B-1042', flag: 'false', blob: undefined, note: undefined, amount: '1' });
    const inserted = ours().read(insert(FULL)) as Extract<RowMessage, { tag: 'insert' }>;
    expect(Buffer.from(inserted.new.blob as Uint8Array).toString('hex')).toBe('00ff10');
    expect(inserted.new.flag).toBe('true');
  });

  it('keeps a value that starts with U+FEFF, which the library drops', () => {
    const values: Value[] = ['42', '\ufeffB-1042', 't', '\\x', '\ufeff', '1'];
    const mine = ours().read(insert(values)) as Extract<RowMessage, { tag: 'insert' }>;
    expect(mine.new.code).toBe('\ufeffB-1042');
    expect(mine.new.note).toBe('\ufeff');
    const library = new LibraryReading().read(insert(values)) as { new: Record<string, unknown> };
    expect(library.new.code).toBe('B-1042');
  });

  it('reads message after message from one reader, each relation by its own columns', () => {
    const reader = ours();
    const other = new PgoutputPlugin({ protoVersion: 1, publicationNames: ['p'] }).parse(relationMessage(7)) as Pgoutput.MessageRelation;
    other.columns = other.columns.slice(0, 2);
    reader.relation(other);
    for (let i = 0; i < 100; i++) {
      const values: Value[] = [String(i), `K-${i}`, i % 2 ? 't' : 'f', '\\x0a', 'x'.repeat(i), String(i / 8)];
      expect((reader.read(insert(values)) as Extract<RowMessage, { tag: 'insert' }>).new.note).toBe('x'.repeat(i));
      expect((reader.read(insert(values.slice(0, 2), 7)) as Extract<RowMessage, { tag: 'insert' }>).new).toStrictEqual({ id: String(i), code: `K-${i}` });
    }
  });

  it('refuses what it cannot read, saying what', () => {
    const whole = insert(FULL);
    expect(() => ours().read(whole.subarray(0, whole.length - 3))).toThrow(/pgoutput message ends early/);
    expect(() => ours().read(insert(FULL, 999))).toThrow(/relation 999 before its relation message/);
    expect(() => ours().read(rawMessage('I', OID, byte('N'), int16(1), byte('b'), int32(1), Buffer.from([1])))).toThrow(
      /column id: unexpected tuple value kind 'b'/,
    );
    expect(() => ours().read(rawMessage('D', OID, byte('N'), tuple(KEY_ONLY)))).toThrow(/unknown delete part 'N'/);
    expect(() => ours().read(rawMessage('U', OID, byte('X')))).toThrow(/unknown update part 'X'/);
    expect(() => ours().read(rawMessage('I', OID, byte('N'), tuple([...FULL, '7'])))).toThrow(/tuple of 7 columns for a relation of 6/);
  });

  it('hands an unreadable message on as such instead of throwing in the socket handler', () => {
    const plugin = new TextPgoutputPlugin({ protoVersion: 1, publicationNames: ['p'] });
    expect((plugin.parse(relationMessage()) as Pgoutput.MessageRelation).tag).toBe('relation');
    const good = plugin.parse(insert(FULL)) as unknown as RowMessage;
    expect(good).toMatchObject({ tag: 'insert', relationOid: OID, new: { id: '42', code: 'B-1042' } });
    const bad = plugin.parse(insert(FULL).subarray(0, 12)) as unknown as { tag: string; error: Error };
    expect(bad.tag).toBe('unreadable');
    expect(bad.error.message).toMatch(/ends early/);
    const unknown = plugin.parse(Buffer.from('Z')) as unknown as { tag: string; error: Error };
    expect(unknown.tag).toBe('unreadable');
    expect(unknown.error.message).toMatch(/unknown pgoutput message/);
  });
});
