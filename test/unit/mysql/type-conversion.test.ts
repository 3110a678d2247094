// The query side (snapshot rows) gives the same canonical text as the binlog side, and the
// pieces around it: column kinds, ENUM/SET labels, character sets, server settings and grants,
// connection urls and error messages.
import { describe, expect, it } from 'vitest';
import { columnFromRow, kindForDataType, parseLabels } from '../../../capture/mysql/catalog.ts';
import { charsetSupported, decodeText, decodeTextRange } from '../../../capture/mysql/charsets.ts';
import { classifyMysqlError, describeServer, parseMysqlUrl } from '../../../capture/mysql/connection.ts';
import { binlogProblems, replicationGrants, type ServerSettings } from '../../../capture/mysql/settings.ts';
import { queryValue } from '../../../capture/mysql/snapshot.ts';
import { compatible } from '../../../capture/mysql/table-columns.ts';
import { ColumnType } from '../../../capture/mysql/binlog-events.ts';

const column = (dataType: string, columnType = dataType, charset: string | null = null) =>
  columnFromRow({ TABLE_SCHEMA: 'legacy', TABLE_NAME: 't', COLUMN_NAME: 'c', ORDINAL_POSITION: '1', DATA_TYPE: dataType, COLUMN_TYPE: columnType, CHARACTER_SET_NAME: charset });
const text = (value: string): Buffer => Buffer.from(value, 'utf8');

describe('query values (snapshot rows)', () => {
  it('keeps exact text for DECIMAL, big integers, dates and times', () => {
    expect(queryValue(column('decimal', 'decimal(38,10)'), text('12345678901234567890.1234567890'))).toBe('12345678901234567890.1234567890');
    expect(queryValue(column('decimal', 'decimal(38,10)'), text('-0.0000000001'))).toBe('-0.0000000001');
    expect(queryValue(column('bigint', 'bigint(20) unsigned'), text('18446744073709551615'))).toBe('18446744073709551615');
    expect(queryValue(column('datetime', 'datetime(6)'), text('2024-02-29 23:59:59.999999'))).toBe('2024-02-29 23:59:59.999999');
    expect(queryValue(column('date'), text('0000-00-00'))).toBe('0000-00-00');
    expect(queryValue(column('time', 'time(1)'), text('-838:59:59.0'))).toBe('-838:59:59.0');
    expect(queryValue(column('year', 'year(4)'), text('0000'))).toBe('0000');
    expect(queryValue(column('decimal'), null)).toBeNull();
  });

  it('gives TIMESTAMP its UTC offset (the session runs in UTC), except the zero timestamp', () => {
    expect(queryValue(column('timestamp', 'timestamp(3)'), text('2024-03-10 06:59:59.123'))).toBe('2024-03-10 06:59:59.123+00:00');
    expect(queryValue(column('timestamp', 'timestamp(3)'), text('0000-00-00 00:00:00.000'))).toBe('0000-00-00 00:00:00.000');
  });

  it('reads FLOAT widened to DOUBLE back to its shortest single-precision text, like the binlog side', () => {
    expect(queryValue(column('float'), text('1.100000023841858'))).toBe('1.1');
    expect(queryValue(column('float'), text('123456.703125'))).toBe('123456.7');
    expect(queryValue(column('double'), text('1e300'))).toBe('1e300');
    expect(queryValue(column('double'), text('0.1'))).toBe('0.1');
  });

  it('gives BIT as its value and binary columns as bytes', () => {
    expect(queryValue(column('bit', 'bit(10)'), Buffer.from([0x02, 0xaa]))).toBe('682');
    expect(queryValue(column('varbinary', 'varbinary(4)'), Buffer.from([0, 255]))).toEqual(Uint8Array.from([0, 255]));
    expect(queryValue(column('blob'), Buffer.alloc(0))).toEqual(new Uint8Array(0));
    expect(queryValue(column('varchar', 'varchar(9)', 'binary'), Buffer.from([1]))).toEqual(Uint8Array.from([1]));
    expect(queryValue(column('varchar', 'varchar(9)', 'utf8mb4'), text('ünï ✓ 😀'))).toBe('ünï ✓ 😀');
  });
});

describe('catalog', () => {
  it('maps information_schema types to column kinds', () => {
    expect(kindForDataType('decimal', null)).toBe('decimal');
    expect(kindForDataType('datetime', null)).toBe('timestamp');
    expect(kindForDataType('timestamp', null)).toBe('timestamptz');
    expect(kindForDataType('bit', null)).toBe('integer');
    expect(kindForDataType('text', 'utf8mb4')).toBe('text');
    expect(kindForDataType('blob', null)).toBe('bytes');
    expect(kindForDataType('char', 'binary')).toBe('bytes');
    expect(kindForDataType('json', null)).toBe('json');
    expect(kindForDataType('inet6', null)).toBe('other');
    expect(column('int', 'int(10) unsigned').unsigned).toBe(true);
    expect(column('int', 'int(11)').unsigned).toBe(false);
  });

  it('reads ENUM and SET labels, quotes and commas included', () => {
    expect(parseLabels("enum('a','b c','it''s','x,y')")).toEqual(['a', 'b c', "it's", 'x,y']);
    expect(parseLabels("set('x','y')")).toEqual(['x', 'y']);
    expect(parseLabels('int(11)')).toBeUndefined();
    expect(column('enum', "enum('a','b')", 'utf8mb4').labels).toEqual(['a', 'b']);
  });

  it('tells which binlog types fit an information_schema type', () => {
    expect(compatible(ColumnType.LONG, 'int')).toBe(true);
    expect(compatible(ColumnType.LONG, 'varchar')).toBe(false);
    expect(compatible(ColumnType.BLOB, 'json')).toBe(true);
    expect(compatible(ColumnType.DATETIME2, 'datetime')).toBe(true);
    expect(compatible(ColumnType.STRING, 'inet6')).toBe(true);
  });
});

describe('character sets', () => {
  it('decodes the column character sets of legacy databases', () => {
    // MySQL's latin1 is Windows-1252: 0x80 is the euro sign, 0x81 (undefined there) a C1 control.
    expect(decodeText(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x80, 0x81, 0x9f, 0xff]), 'latin1')).toBe('café€\u0081Ÿÿ');
    expect(decodeText(Buffer.from('ünï ✓ 😀', 'utf8'), 'utf8mb4')).toBe('ünï ✓ 😀');
    expect(decodeText(Buffer.from([0xc1, 0xe3]), 'cp1251')).toBe('Бг');
    expect(decodeText(Buffer.from([0x00, 0x41, 0xd8, 0x3d, 0xde, 0x00]), 'utf16')).toBe('A😀');
    expect(decodeText(Buffer.from([0x00, 0x01, 0xf6, 0x00]), 'utf32')).toBe('😀');
    expect(decodeText(Buffer.from([0x82, 0xa0]), 'sjis')).toBe('あ');
    expect(decodeText(Buffer.from([1]), 'armscii8')).toBeUndefined();
  });

  it('keeps a leading U+FEFF: it is part of the value, not a byte order mark to drop', () => {
    expect(decodeText(Buffer.from('\ufeffexport', 'utf8'), 'utf8mb4')).toBe('\ufeffexport');
    expect(decodeText(Buffer.from('\ufeff', 'utf8'), 'utf8mb3')).toBe('\ufeff');
    expect(decodeText(Buffer.from([0xfe, 0xff, 0x00, 0x41]), 'utf16')).toBe('\ufeffA');
    expect(decodeText(Buffer.from([0xff, 0xfe, 0x41, 0x00]), 'utf16le')).toBe('\ufeffA');
    // The same decoder serves call after call: the mark is kept every time, not only the first.
    expect(decodeText(Buffer.from('\ufeffx', 'utf8'), 'utf8mb4')).toBe('\ufeffx');
    expect(charsetSupported('armscii8')).toBe(false);
    expect(charsetSupported('gbk')).toBe(true);
  });

  it('decodes every latin1 byte as Windows-1252, from any slice of a buffer, call after call', () => {
    // The Windows-1252 row 0x80-0x9F as characters; the five bytes Windows leaves undefined stay C1 controls.
    const row80 = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ';
    let expected = '';
    for (let b = 0; b < 256; b++) expected += b >= 0x80 && b <= 0x9f ? row80[b - 0x80] : String.fromCharCode(b);
    const all = Buffer.from(Array.from({ length: 256 }, (_, b) => b));
    // A slice at an offset inside a larger buffer, as the binlog parser hands values over.
    const event = Buffer.concat([Buffer.from('xxxx'), all, Buffer.from('yy')]);
    const framed = event.subarray(4, 260);
    for (let round = 0; round < 3; round++) {
      expect(decodeText(framed, 'latin1')).toBe(expected);
      // The same range read in place, as the rows-event decoder reads text columns.
      expect(decodeTextRange(event, 4, 260, 'latin1')).toBe(expected);
      expect(decodeTextRange(event, 4 + 0x80, 4 + 0x82, 'ascii')).toBe('€\u0081');
      expect(decodeTextRange(Buffer.from([0x78, 0xc1, 0xe3, 0x79]), 1, 3, 'cp1251')).toBe('Бг');
      expect(decodeTextRange(event, 4, 6, 'armscii8')).toBeUndefined();
      expect(decodeText(Buffer.from('plain ascii'), 'latin1')).toBe('plain ascii');
      expect(decodeText(Buffer.from([0x41, 0x9f]), 'ascii')).toBe('AŸ');
    }
    expect(decodeText(Buffer.alloc(0), 'latin1')).toBe('');
  });

  it('decodes long utf32 text whole', () => {
    const text = 'Zürich 😀 '.repeat(1_000);
    const bytes = Buffer.alloc([...text].length * 4);
    [...text].forEach((ch, i) => bytes.writeUInt32BE(ch.codePointAt(0)!, i * 4));
    expect(decodeText(bytes, 'utf32')).toBe(text);
    expect(decodeText(Buffer.alloc(0), 'utf32')).toBe('');
  });
});

describe('server checks', () => {
  const settings = (over: Partial<ServerSettings>): ServerSettings => ({
    version: '10.11.19-MariaDB',
    flavor: 'mariadb',
    user: 'r@%',
    serverId: '1',
    logBin: true,
    binlogFormat: 'ROW',
    binlogRowImage: 'FULL',
    rowMetadata: 'FULL',
    ...over,
  });

  it('names what stops row capture and the statement that fixes it', () => {
    expect(binlogProblems(settings({}))).toEqual([]);
    expect(binlogProblems(settings({ binlogFormat: 'MIXED' }))).toEqual([
      "binlog_format is MIXED; row capture needs ROW (SET GLOBAL binlog_format = 'ROW'; and binlog_format=ROW in the server's config)",
    ]);
    expect(binlogProblems(settings({ binlogRowImage: 'MINIMAL' }))[0]).toMatch(/^binlog_row_image is MINIMAL; row capture needs FULL/);
    expect(binlogProblems(settings({ logBin: false }))).toEqual(['binary logging is off; start the server with --log-bin (and --binlog-format=ROW --binlog-row-image=FULL)']);
  });

  it('reads replication privileges from SHOW GRANTS, and says when a role hides them', () => {
    expect(replicationGrants(['GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `r`@`%`', 'GRANT SELECT ON `legacy`.* TO `r`@`%`'])).toEqual({ slave: true, client: true });
    expect(replicationGrants(['GRANT REPLICATION CLIENT ON *.* TO `r`@`%`'])).toEqual({ slave: false, client: true });
    expect(replicationGrants(['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION'])).toEqual({ slave: true, client: true });
    expect(replicationGrants(["GRANT REPLICATION SLAVE ON `legacy`.* TO 'r'@'%'"])).toEqual({ slave: false, client: false });
    expect(replicationGrants(['GRANT USAGE ON *.* TO `r`@`%`', 'GRANT `cdc_role` TO `r`@`%`'])).toBeUndefined();
    expect(replicationGrants(['GRANT USAGE ON *.* TO `r`@`%`', 'GRANT `cdc`@`%`,`reader`@`%` TO `r`@`%`'])).toBeUndefined();
  });
});

describe('connections and errors', () => {
  it('reads mysql:// and mariadb:// urls, and names the server without the password', () => {
    expect(parseMysqlUrl('mysql://rd%40x:p%3Aw@127.0.0.1:3307/legacy')).toEqual({ host: '127.0.0.1', port: 3307, user: 'rd@x', password: 'p:w', database: 'legacy' });
    expect(parseMysqlUrl('mariadb://u:p@db.local/')).toEqual({ host: 'db.local', port: 3306, user: 'u', password: 'p' });
    expect(describeServer('mysql://u:secret@127.0.0.1:3307/legacy')).toBe('mysql 127.0.0.1:3307/legacy');
    expect(describeServer('mariadb://u:secret@db.local')).toBe('mariadb db.local:3306');
  });

  it('classifies driver errors by what a retry can do', () => {
    const where = 'mysql 127.0.0.1:3307/legacy';
    const refused = classifyMysqlError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3307'), { code: 'ECONNREFUSED' }), where);
    expect(refused).toMatchObject({
      code: 'SOURCE_UNREACHABLE',
      retryable: true,
      message: `${where}: connect ECONNREFUSED 127.0.0.1:3307; check that the server runs and that the host and port of the source url reach it`,
    });
    const lost = classifyMysqlError(Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }), where);
    expect(lost.code).toBe('SOURCE_UNREACHABLE');
    const auth = classifyMysqlError({ errno: 1045, code: 'ER_ACCESS_DENIED_ERROR', sqlMessage: "Access denied for user 'r'@'127.0.0.1' (using password: YES)" }, where);
    expect(auth).toMatchObject({ code: 'SOURCE_AUTH', message: `${where}: authentication failed (Access denied for user 'r'@'127.0.0.1' (using password: YES)); check the user and password in the source url` });
    const privilege = classifyMysqlError({ errno: 1227, sqlMessage: 'Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s) for this operation' }, where);
    expect(privilege.code).toBe('SOURCE_PRIVILEGE');
    expect(privilege.message).toContain('GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO <bridge user>;');
    expect(classifyMysqlError({ errno: 1142, sqlMessage: "SELECT command denied to user 'r'@'%' for table `legacy`.`t`" }, where).code).toBe('SOURCE_PRIVILEGE');
    expect(classifyMysqlError({ errno: 1236, sqlMessage: 'Could not find first log file name in binary log index file' }, where)).toMatchObject({ code: 'SOURCE_STATE', retryable: true });
    expect(classifyMysqlError({ errno: 1064, sqlMessage: 'syntax' }, where).message).toBe(`${where}: syntax (error 1064)`);
  });
});
