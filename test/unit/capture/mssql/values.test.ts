// SQL Server values as tedious returns them for the select expressions (text for DECIMAL,
// MONEY and date/time types, text for BIGINT, Buffers for binary) -> canonical text.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { kindForMssqlType, mssqlColumn, mssqlValue, paramType, selectExpression, utcDateText } from '../../../../capture/mssql/values.ts';

const col = (type: string, precision = 0, scale = 0, maxLength = 0, collation: string | null = null) => mssqlColumn('C', type, precision, scale, maxLength, collation);

describe('sql server column kinds', () => {
  it('maps types to kinds and names them', () => {
    expect(kindForMssqlType('bigint')).toBe('integer');
    expect(kindForMssqlType('money')).toBe('decimal');
    expect(kindForMssqlType('datetime2')).toBe('timestamp');
    expect(kindForMssqlType('datetimeoffset')).toBe('timestamptz');
    expect(kindForMssqlType('ntext')).toBe('text');
    expect(kindForMssqlType('timestamp')).toBe('bytes');
    expect(kindForMssqlType('geography')).toBe('other');
    expect(col('decimal', 38, 10).nativeType).toBe('decimal(38,10)');
    expect(col('nvarchar', 0, 0, 100).nativeType).toBe('nvarchar(50)');
    expect(col('varbinary', 0, 0, -1)).toMatchObject({ nativeType: 'varbinary(max)', lob: true });
    expect(col('timestamp').nativeType).toBe('rowversion');
  });
});

describe('select expressions', () => {
  it('convert DECIMAL, MONEY and date/time types to text in SQL', () => {
    expect(selectExpression({ name: 'A', dataType: 'decimal' })).toBe('CONVERT(VARCHAR(50), [A]) AS [A]');
    expect(selectExpression({ name: 'M', dataType: 'money' })).toBe('CONVERT(VARCHAR(30), [M], 2) AS [M]');
    expect(selectExpression({ name: 'D', dataType: 'date' })).toBe('CONVERT(VARCHAR(10), [D], 23) AS [D]');
    expect(selectExpression({ name: 'T', dataType: 'datetime2' })).toBe('CONVERT(VARCHAR(34), [T], 121) AS [T]');
    expect(selectExpression({ name: 'O', dataType: 'datetimeoffset' })).toBe('CONVERT(VARCHAR(34), [O], 121) AS [O]');
    expect(selectExpression({ name: 'N', dataType: 'nvarchar' })).toBe('[N]');
    expect(selectExpression({ name: 'we]ird', dataType: 'int' }, 'c0')).toBe('[we]]ird] AS [c0]');
  });

  it('read char and varchar under a UTF-8 collation as NVARCHAR, of the same length up to 4,000', () => {
    const utf8 = 'Latin1_General_100_CI_AS_SC_UTF8';
    expect(selectExpression(col('varchar', 0, 0, 40, utf8))).toBe('CONVERT(NVARCHAR(40), [C]) AS [C]');
    expect(selectExpression(col('char', 0, 0, 10, utf8), 'c3')).toBe('CONVERT(NVARCHAR(10), [C]) AS [c3]');
    expect(selectExpression(col('varchar', 0, 0, 4000, utf8))).toBe('CONVERT(NVARCHAR(4000), [C]) AS [C]');
    expect(selectExpression(col('varchar', 0, 0, 8000, utf8))).toBe('CONVERT(NVARCHAR(MAX), [C]) AS [C]');
    expect(selectExpression(col('varchar', 0, 0, -1, utf8.toLowerCase()))).toBe('CONVERT(NVARCHAR(MAX), [C]) AS [C]');
    // Code-page collations, and NVARCHAR under any collation, are read as they are.
    expect(selectExpression(col('varchar', 0, 0, 40, 'SQL_Latin1_General_CP1_CI_AS'))).toBe('[C]');
    expect(selectExpression(col('varchar', 0, 0, 40, 'Latin1_General_100_CI_AS_SC_UTF8_Legacy'))).toBe('[C]');
    expect(selectExpression(col('nvarchar', 0, 0, 80, utf8))).toBe('[C]');
    expect(selectExpression(col('varchar', 0, 0, 40), 'c0')).toBe('[C] AS [c0]');
  });

  it('why: tedious decodes a UTF-8 collated varchar with a decoder that drops a leading U+FEFF, and NVARCHAR as it is', () => {
    // The calls tedious's row parser makes (value-parser.js readChars / readNChars), on its own
    // Collation and iconv-lite: if a later tedious kept the mark, this test says the NVARCHAR
    // detour can go.
    const fromTedious = createRequire(createRequire(import.meta.url).resolve('tedious'));
    const { Collation, Flags } = fromTedious('./collation.js') as {
      Collation: new (lcid: number, flags: number, version: number, sortId: number) => { codepage: string };
      Flags: { UTF8: number };
    };
    const iconv = fromTedious('iconv-lite') as { decode(bytes: Buffer, encoding: string): string };
    const codepage = new Collation(0x0409, Flags.UTF8, 2, 0).codepage;
    expect(codepage).toBe('utf-8');
    expect(iconv.decode(Buffer.from('\uFEFFA', 'utf8'), codepage)).toBe('A');
    expect(Buffer.from('\uFEFFA', 'utf16le').toString('ucs2')).toBe('\uFEFFA');
    // A code page's bytes EF BB BF are three characters, kept (here Windows-1252).
    expect(iconv.decode(Buffer.from([0xef, 0xbb, 0xbf, 0x41]), 'CP1252')).toBe('ï»¿A');
  });
});

describe('values', () => {
  it('keeps DECIMAL, MONEY and BIGINT exact', () => {
    expect(mssqlValue(col('decimal', 38, 10), '12345678901234567890.1234567890')).toBe('12345678901234567890.1234567890');
    expect(mssqlValue(col('money'), '-922337203685477.5808')).toBe('-922337203685477.5808');
    expect(mssqlValue(col('bigint'), '9223372036854775807')).toBe('9223372036854775807');
    expect(mssqlValue(col('int'), 42)).toBe('42');
  });

  it('date/time as the server prints them, offsets without the space', () => {
    expect(mssqlValue(col('datetime2', 27, 7), '2024-03-10 06:59:59.1234567')).toBe('2024-03-10 06:59:59.1234567');
    expect(mssqlValue(col('datetimeoffset', 34, 7), '2024-03-10 06:59:59.1234567 -05:00')).toBe('2024-03-10 06:59:59.1234567-05:00');
    expect(mssqlValue(col('date'), '2024-03-10')).toBe('2024-03-10');
    expect(mssqlValue(col('time', 16, 7), '23:59:59.9999999')).toBe('23:59:59.9999999');
  });

  it('a JS Date (useUTC: its UTC fields are the stored wall clock) never goes through the local zone', () => {
    // 2024-03-10 02:30 does not exist in America/Chicago; the UTC fields still hold it.
    const date = new Date(Date.UTC(2024, 2, 10, 2, 30, 0, 123));
    expect(mssqlValue(col('datetime'), date)).toBe('2024-03-10 02:30:00.123');
    expect(utcDateText(date, 'date')).toBe('2024-03-10');
    expect(utcDateText(date, 'timestamptz')).toBe('2024-03-10 02:30:00.123+00:00');
  });

  it('bit, floats, unicode text, binary and rowversion', () => {
    expect(mssqlValue(col('bit'), true)).toBe('true');
    expect(mssqlValue(col('bit'), false)).toBe('false');
    expect(mssqlValue(col('real'), Math.fround(0.1))).toBe('0.1');
    expect(mssqlValue(col('float'), 0.1)).toBe('0.1');
    expect(mssqlValue(col('nvarchar'), 'Grüße 日本 🚗')).toBe('Grüße 日本 🚗');
    expect(mssqlValue(col('nchar'), 'ab  ')).toBe('ab  ');
    expect(mssqlValue(col('varchar'), '')).toBe('');
    expect(mssqlValue(col('varbinary'), Buffer.from([0, 1, 255]))).toEqual(new Uint8Array([0, 1, 255]));
    expect(mssqlValue(col('timestamp'), Buffer.from('00000000000007D1', 'hex'))).toEqual(new Uint8Array([0, 0, 0, 0, 0, 0, 7, 0xd1]));
    expect(mssqlValue(col('uniqueidentifier'), '6F9619FF-8B86-D011-B42D-00C04FC964FF')).toBe('6F9619FF-8B86-D011-B42D-00C04FC964FF');
    expect(mssqlValue(col('int'), null)).toBeNull();
  });

  it('binds varchar keys as VARCHAR (index seeks), binary as VARBINARY', () => {
    expect(paramType('varchar')).toBe('varchar');
    expect(paramType('nvarchar')).toBe('nvarchar');
    expect(paramType('timestamp')).toBe('varbinary');
    expect(paramType('int')).toBe('nvarchar');
  });
});
