// SQL Server values as tedious returns them for the select expressions (text for DECIMAL,
// MONEY and date/time types, text for BIGINT, Buffers for binary) -> canonical text.
import { describe, expect, it } from 'vitest';
import { kindForMssqlType, mssqlColumn, mssqlValue, paramType, selectExpression, utcDateText } from '../../../../capture/mssql/values.ts';

const col = (type: string, precision = 0, scale = 0, maxLength = 0) => mssqlColumn('C', type, precision, scale, maxLength);

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
