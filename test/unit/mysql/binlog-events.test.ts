// Table maps and rows events as MariaDB 10.11 wrote them (binlog_row_metadata=FULL), decoded
// without a server: names, signedness, charsets and labels from the map's optional metadata,
// every value in its canonical text; and the same table map read without its names through
// information_schema, including a table that changed since the event was logged.
import { describe, expect, it } from 'vitest';
import { ColumnType, parseMariadbGtid, parseMysqlGtid, parseRowsEvent, parseTableMap, tableMapNames, rowsTableId } from '../../../capture/mysql/binlog-events.ts';
import { columnFromRow } from '../../../capture/mysql/catalog.ts';
import { needsInformationSchema, resolveColumns } from '../../../capture/mysql/table-columns.ts';
import { truncatedTable } from '../../../capture/mysql/binlog-stream.ts';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');

// CREATE TABLE legacy.m (id int unsigned primary key, amt decimal(12,2), dt datetime(6), ts timestamp(3) NULL,
//   d date, tm time(1), yr year, bt bit(10), u bigint unsigned, s smallint, e enum('a','b c'), st set('x','y','z'),
//   name varchar(20), l1 char(4) character set latin1, bn binary(3), bl blob, tx text, fl float, db double)
const TABLE_MAP = hex(
  '1600000000000100066c656761637900016d001303f612110a130d100802fefe0ffefefcfc0405150c020603010201f701f8015000fe04fe0302020408feff070101b003052d083f3f2d043802696403616d74026474027473016402746d027972026274017501730165027374046e616d65026c3102626e02626c02747802666c0264620a012d05070301780179017a060702016103622063080100',
);
const WRITE_ROWS = hex(
  '160000000000010013ffff070000f8ffffffff7ffffffff3dd99b2bb7efb0f423f65ed5a6f04ce0000007f3747ba7c02aaffffffffffffffff0080020509c3bc6ec3af20e29c9304636166e90101020000ff09006c6f6e672074657874cdcc8c3f9a9999999999b93f0a00f801000000800000000000000021d0077fffffce00000000000000000000000100010000000000000000000000009c7500883ce4377e',
);
const COLLATIONS = new Map([
  [8, 'latin1'],
  [45, 'utf8mb4'],
  [63, 'binary'],
]);

describe('table map', () => {
  it('reads names, types, signedness, charsets, labels and the key from FULL metadata', () => {
    expect(tableMapNames(TABLE_MAP)).toEqual({ tableId: 22, schema: 'legacy', table: 'm' });
    const map = parseTableMap(TABLE_MAP, 'mariadb');
    expect(map.names).toEqual(['id', 'amt', 'dt', 'ts', 'd', 'tm', 'yr', 'bt', 'u', 's', 'e', 'st', 'name', 'l1', 'bn', 'bl', 'tx', 'fl', 'db']);
    expect(map.columns[1]).toEqual({ type: ColumnType.NEWDECIMAL, precision: 12, scale: 2 });
    expect(map.columns[2]).toEqual({ type: ColumnType.DATETIME2, fsp: 6 });
    expect(map.columns[7]).toEqual({ type: ColumnType.BIT, bits: 10 });
    expect(map.columns[10]).toEqual({ type: ColumnType.ENUM, packSize: 1 });
    expect(map.columns[13]).toEqual({ type: ColumnType.STRING, maxLength: 4 });
    // MariaDB counts YEAR among the numeric columns of the signedness bitmap.
    expect(map.unsigned?.map((u, i) => (u ? map.names![i] : undefined)).filter(Boolean)).toEqual(['id', 'yr', 'u']);
    expect(map.unsigned?.[9]).toBe(false);
    expect(map.collations?.map((c, i) => (c === undefined ? undefined : `${map.names![i]}:${c}`)).filter(Boolean)).toEqual(['name:45', 'l1:8', 'bn:63', 'bl:63', 'tx:45']);
    expect(map.enumLabels?.[10]?.map(String)).toEqual(['a', 'b c']);
    expect(map.setLabels?.[11]?.map(String)).toEqual(['x', 'y', 'z']);
    expect(map.primaryKey).toEqual([0]);
    expect(map.nullable[0]).toBe(false);
    expect(needsInformationSchema(map)).toBe(false);
  });

  it('decodes every value of a rows event in its canonical text', () => {
    const { columns, error } = resolveColumns(parseTableMap(TABLE_MAP, 'mariadb'), undefined, { table: 'legacy.m', collations: COLLATIONS, rowMetadata: 'FULL' });
    expect(error).toBeUndefined();
    expect(columns.map((c) => c.kind)).toEqual([
      'integer', 'decimal', 'timestamp', 'timestamptz', 'date', 'time', 'integer', 'integer', 'integer', 'integer',
      'text', 'text', 'text', 'text', 'bytes', 'bytes', 'text', 'float', 'float',
    ]);
    expect(rowsTableId(WRITE_ROWS)).toBe(22);
    const event = parseRowsEvent(23, WRITE_ROWS, columns);
    expect(event.kind).toBe('write');
    expect(event.rows).toHaveLength(2);
    expect(event.rows[0]!.after!.values).toEqual({
      id: '4294967295',
      amt: '-12.34',
      dt: '2024-02-29 23:59:59.999999',
      ts: '2024-03-10 06:59:59.123+00:00',
      d: '0000-00-00',
      tm: '-12:34:56.7',
      yr: '2024',
      bt: '682',
      u: '18446744073709551615',
      s: '-32768',
      e: 'b c',
      st: 'x,z',
      name: 'ünï ✓',
      l1: 'café',
      bn: Uint8Array.from([1, 0, 0]),
      bl: Uint8Array.from([0, 255]),
      tx: 'long text',
      fl: '1.1',
      db: '0.1',
    });
    expect(event.rows[1]!.after!.values).toEqual({
      id: '1',
      amt: null,
      dt: '0000-00-00 00:00:00.000000',
      ts: null,
      d: '1000-01-01',
      tm: '-00:00:00.5',
      yr: '0000',
      bt: '0',
      u: '0',
      s: '1',
      e: 'a',
      st: '',
      name: '',
      l1: '',
      // BINARY(3) of zero bytes: the binlog drops the padding, a query returns all three.
      bn: Uint8Array.from([0, 0, 0]),
      bl: new Uint8Array(0),
      tx: '',
      fl: '0',
      db: '1e300',
    });
    expect(event.rows[0]!.after!.missing).toBeUndefined();
  });

  it('without names in the map, takes them from information_schema when the table still fits', () => {
    const full = parseTableMap(TABLE_MAP, 'mariadb');
    const bare = { ...full, names: undefined, collations: undefined, enumLabels: undefined, setLabels: undefined, unsigned: undefined };
    expect(needsInformationSchema(bare)).toBe(true);
    const row = (name: string, dataType: string, columnType: string, charset: string | null = null) =>
      columnFromRow({ TABLE_SCHEMA: 'legacy', TABLE_NAME: 'm', COLUMN_NAME: name, ORDINAL_POSITION: '0', DATA_TYPE: dataType, COLUMN_TYPE: columnType, CHARACTER_SET_NAME: charset });
    const info = [
      row('id', 'int', 'int(10) unsigned'), row('amt', 'decimal', 'decimal(12,2)'), row('dt', 'datetime', 'datetime(6)'), row('ts', 'timestamp', 'timestamp(3)'),
      row('d', 'date', 'date'), row('tm', 'time', 'time(1)'), row('yr', 'year', 'year(4)'), row('bt', 'bit', 'bit(10)'),
      row('u', 'bigint', 'bigint(20) unsigned'), row('s', 'smallint', 'smallint(6)'), row('e', 'enum', "enum('a','b c')", 'utf8mb4'),
      row('st', 'set', "set('x','y','z')", 'utf8mb4'), row('name', 'varchar', 'varchar(20)', 'utf8mb4'), row('l1', 'char', 'char(4)', 'latin1'),
      row('bn', 'binary', 'binary(3)'), row('bl', 'blob', 'blob'), row('tx', 'text', 'text', 'utf8mb4'), row('fl', 'float', 'float'), row('db', 'double', 'double'),
    ];
    const resolved = resolveColumns(bare, info, { table: 'legacy.m', collations: COLLATIONS, rowMetadata: 'NO_LOG' });
    expect(resolved.error).toBeUndefined();
    expect(resolved.columns.find((c) => c.name === 'amt')!.nativeType).toBe('decimal(12,2)');
    const values = parseRowsEvent(23, WRITE_ROWS, resolved.columns).rows[0]!.after!.values;
    expect(values).toMatchObject({ id: '4294967295', u: '18446744073709551615', e: 'b c', st: 'x,z', l1: 'café', name: 'ünï ✓' });

    // The table lost a column since: the logged change no longer fits; its values still show.
    const changed = resolveColumns(bare, info.slice(1), { table: 'legacy.m', collations: COLLATIONS, rowMetadata: 'NO_LOG' });
    expect(changed.error).toMatch(/^the columns of legacy\.m changed since this change was logged \(the table has 18 columns now, the logged change 19\).*binlog_row_metadata=NO_LOG.*SET GLOBAL binlog_row_metadata = FULL;$/);
    const raw = parseRowsEvent(23, WRITE_ROWS, changed.columns).rows[0]!.after!;
    expect(raw.values['@1']).toBe('-1');
    expect(raw.values['@2']).toBe('-12.34');
    // A column of another type now at the same place: the same error, naming it.
    const retyped = resolveColumns(bare, [row('id', 'varchar', 'varchar(10)', 'utf8mb4'), ...info.slice(1)], { table: 'legacy.m', collations: COLLATIONS, rowMetadata: 'MINIMAL' });
    expect(retyped.error).toContain('(id is varchar(10) now)');
  });

  it('tells a rows event that does not fit its table map', () => {
    const { columns } = resolveColumns(parseTableMap(TABLE_MAP, 'mariadb'), undefined, { table: 'legacy.m', collations: COLLATIONS, rowMetadata: 'FULL' });
    expect(() => parseRowsEvent(23, WRITE_ROWS, columns.slice(1))).toThrow(/rows event has 19 columns, its table map 18/);
    expect(() => parseRowsEvent(23, WRITE_ROWS.subarray(0, 60), columns)).toThrow(/more bytes needed/);
  });
});

describe('GTID events', () => {
  it('MariaDB: sequence, domain, server and the standalone flag', () => {
    // GTID 0-1-12 of a transaction (flags TRANSACTIONAL | ALLOW_PARALLEL), from MariaDB 10.11.
    expect(parseMariadbGtid(hex('0c00000000000000000000000c000000000000'), 1)).toMatchObject({ gtid: '0-1-12', domain: 0, serverId: 1, seq: 12n, standalone: false });
    const ddl = hex('0d00000000000000070000002100000000000000');
    expect(parseMariadbGtid(ddl, 9)).toMatchObject({ gtid: '7-9-13', standalone: true });
  });

  it('MySQL: uuid:gno and the commit timestamp', () => {
    const body = Buffer.alloc(1 + 16 + 8 + 1 + 16 + 7);
    body.writeUInt8(1, 0);
    hex('3e11fa47716711e69c8a0242ac110002').copy(body, 1);
    body.writeBigUInt64LE(42n, 17);
    body.writeUInt8(2, 25);
    const write7 = (value: bigint, at: number, into: Buffer) => {
      for (let i = 0; i < 7; i++) into[at + i] = Number((value >> BigInt(8 * i)) & 0xffn);
    };
    write7(1_710_053_999_123_456n, 42, body);
    expect(parseMysqlGtid(body, false)).toEqual({ gtid: '3e11fa47-7167-11e6-9c8a-0242ac110002:42', standalone: false, commitMicros: 1_710_053_999_123_456n });
    expect(parseMysqlGtid(body, true).gtid).toBeUndefined();
    // Replicated: the immediate timestamp flags an original one, which is the commit time.
    const replicated = Buffer.concat([body, Buffer.alloc(7)]);
    write7((1n << 55n) | 1_710_053_999_999_999n, 42, replicated);
    write7(1_710_000_000_000_001n, 49, replicated);
    expect(parseMysqlGtid(replicated, false).commitMicros).toBe(1_710_000_000_000_001n);
  });
});

describe('TRUNCATE statements', () => {
  it('names the table, in the statement\'s default database unless it says otherwise', () => {
    expect(truncatedTable('TRUNCATE TABLE sites', 'legacy')).toBe('legacy.sites');
    expect(truncatedTable('truncate sites;', 'legacy')).toBe('legacy.sites');
    expect(truncatedTable('TRUNCATE TABLE `other`.`odd``name`', 'legacy')).toBe('other.odd`name');
    expect(truncatedTable('TRUNCATE TABLE other . sites', 'legacy')).toBe('other.sites');
    expect(truncatedTable('TRUNCATE TABLE a, b', 'legacy')).toBeUndefined();
    expect(truncatedTable('ALTER TABLE sites ADD x int', 'legacy')).toBeUndefined();
  });
});
