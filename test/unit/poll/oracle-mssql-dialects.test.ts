// The polling dialects of Oracle and SQL Server beyond the shared SQL text (sql-dialects.test.ts):
// LOB and float/money handling in the row hash, values read back without precision loss, the
// rowversion hint compared as binary, key orderings, and the dialect a source gets.
import sql from 'mssql';
import { describe, expect, it } from 'vitest';
import { mssqlBind, hintText, mssqlOrdering } from '../../../capture/poll/dialects/mssql.ts';
import { oracleBind, oracleOrdering } from '../../../capture/poll/dialects/oracle.ts';
import { mssqlSql, oracleSql, pollDialectFor } from '../../../capture/poll/index.ts';
import { loadDrivers } from '../../../src/runtime/drivers.ts';
import type { PollTable } from '../../../capture/poll/types.ts';
import type { SourceConfig } from '../../../src/config/index.ts';

const ORA: PollTable = {
  table: 'LEGACY.DOCS',
  schema: 'LEGACY',
  name: 'DOCS',
  columns: [
    { name: 'ID', kind: 'integer', nativeType: 'NUMBER' },
    { name: 'BODY', kind: 'text', nativeType: 'CLOB' },
    { name: 'IMG', kind: 'bytes', nativeType: 'BLOB' },
    { name: 'AT', kind: 'timestamp', nativeType: 'TIMESTAMP(9)' },
    { name: 'Z', kind: 'timestamptz', nativeType: 'TIMESTAMP(3) WITH TIME ZONE' },
  ],
  keyColumns: ['ID'],
  keyIndexes: [0],
};

const MS: PollTable = {
  table: 'dbo.orders',
  schema: 'dbo',
  name: 'orders',
  columns: [
    { name: 'id', kind: 'integer', nativeType: 'int' },
    { name: 'amount', kind: 'decimal', nativeType: 'decimal(38,10)' },
    { name: 'price', kind: 'decimal', nativeType: 'money' },
    { name: 'ratio', kind: 'float', nativeType: 'float' },
    { name: 'at', kind: 'timestamp', nativeType: 'datetime2(7)' },
    { name: 'rv', kind: 'bytes', nativeType: 'rowversion' },
  ],
  keyColumns: ['id'],
  keyIndexes: [0],
  changed: { name: 'rv', kind: 'bytes', nativeType: 'rowversion' },
};

describe('oracle polling', () => {
  it('hashes LOBs by length and a prefix hash (TO_CHAR of a long LOB fails), timestamps with their own digits', () => {
    const text = oracleSql.rows(ORA, {}, 10).text;
    expect(text).toContain(`DBMS_LOB.GETLENGTH("BODY") || ':' || RAWTOHEX(STANDARD_HASH(TO_CHAR(DBMS_LOB.SUBSTR("BODY", 2000, 1)), 'MD5'))`);
    expect(text).toContain(`DBMS_LOB.GETLENGTH("IMG") || ':' || RAWTOHEX(STANDARD_HASH(DBMS_LOB.SUBSTR("IMG", 1000, 1), 'MD5'))`);
    expect(text).not.toContain('TO_CHAR("BODY")');
    expect(text).toContain(`TO_CHAR("AT", 'YYYY-MM-DD HH24:MI:SS.FF9') AS "c3"`);
    expect(text).toContain(`TO_CHAR("Z", 'YYYY-MM-DD HH24:MI:SS.FF3TZH:TZM') AS "c4"`);
    // The LOB itself is read as is: the driver fetches it whole as text / bytes.
    expect(text).toContain(`"BODY" AS "c1", "IMG" AS "c2"`);
  });

  it('orders keys on the client only where Oracle binary sort agrees', () => {
    expect(oracleOrdering('NUMBER', 'integer', true)).toBe('numeric');
    expect(oracleOrdering('DATE', 'timestamp', true)).toBe('lexical');
    expect(oracleOrdering('TIMESTAMP(3) WITH TIME ZONE', 'timestamptz', true)).toBeUndefined();
    expect(oracleOrdering('VARCHAR2', 'text', true)).toBe('text');
    expect(oracleOrdering('VARCHAR2', 'text', false)).toBeUndefined();
    expect(oracleOrdering('NVARCHAR2', 'text', true)).toBeUndefined();
    expect(oracleOrdering('RAW', 'bytes', true)).toBe('bytes');
    expect(oracleBind({ kind: 'bytes', value: new Uint8Array([1]) })).toEqual(Buffer.from([1]));
    expect(oracleBind({ kind: 'integer', value: '9007199254740993' })).toBe('9007199254740993');
  });
});

describe('sql server polling', () => {
  it('reads DECIMAL, MONEY and DATETIME2 back as text, hashes FLOAT with 17 digits and MONEY with 4 decimals', () => {
    const text = mssqlSql.rows(MS, {}, 10).text;
    expect(text).toContain('CONVERT(VARCHAR(50), [amount]) AS [c1], CONVERT(VARCHAR(30), [price], 2) AS [c2], [ratio] AS [c3], CONVERT(VARCHAR(34), [at], 121) AS [c4], [rv] AS [c5]');
    expect(text).toContain('CONVERT(NVARCHAR(MAX), [ratio], 3)');
    expect(text).toContain('CONVERT(NVARCHAR(MAX), [price], 2)');
  });

  it('reads UTF-8 collated char and varchar back as NVARCHAR (tedious would drop a leading U+FEFF), and hashes them as before', () => {
    const table: PollTable = {
      ...MS,
      columns: [
        { name: 'id', kind: 'integer', nativeType: 'int' },
        { name: 'u', kind: 'text', nativeType: 'varchar(40)', collation: 'Latin1_General_100_CI_AS_SC_UTF8' },
        { name: 'm', kind: 'text', nativeType: 'varchar(max)', collation: 'Latin1_General_100_CI_AS_SC_UTF8' },
        { name: 'l', kind: 'text', nativeType: 'varchar(40)', collation: 'SQL_Latin1_General_CP1_CI_AS' },
        { name: 'n', kind: 'text', nativeType: 'nvarchar(40)', collation: 'Latin1_General_100_CI_AS_SC_UTF8' },
      ],
      changed: { name: 'u', kind: 'text', nativeType: 'varchar(40)', collation: 'Latin1_General_100_CI_AS_SC_UTF8' },
    };
    const text = mssqlSql.rows(table, {}, 10).text;
    expect(text).toContain('[id] AS [c0], CONVERT(NVARCHAR(40), [u]) AS [c1], CONVERT(NVARCHAR(MAX), [m]) AS [c2], [l] AS [c3], [n] AS [c4]');
    expect(text).toContain(`COALESCE(N'''' + REPLACE(CONVERT(NVARCHAR(MAX), [u]), N'''', N'''''') + N'''', N'NULL')`);
    expect(mssqlSql.maxChanged(table).text).toBe('SELECT CONVERT(NVARCHAR(40), MAX([u])) AS [m] FROM [dbo].[orders]');
  });

  it('uses a rowversion hint as binary: read as hex, max as hex, bound as VARBINARY', () => {
    const changed = mssqlSql.changedSince(MS, '00000000000007D1', 50, { hint: '00000000000007D2', key: ['4'] });
    expect(changed.text).toContain('[rv] AS [w] FROM [dbo].[orders] WHERE [rv] >= @p1 AND [rv] >= @p2 AND ([rv] > @p3 OR ([rv] = @p4 AND [id] > @p5)) ORDER BY [rv], [id] OFFSET 0 ROWS FETCH NEXT 50 ROWS ONLY');
    expect(mssqlSql.maxChanged(MS).text).toBe('SELECT CONVERT(VARCHAR(MAX), MAX([rv]), 2) AS [m] FROM [dbo].[orders]');
    const request = new sql.Request();
    changed.params.forEach((p, i) => mssqlBind(request, `p${i + 1}`, p));
    const p1 = (request.parameters as Record<string, { type: unknown; value: unknown }>).p1!;
    expect(p1.value).toEqual(Buffer.from('00000000000007D1', 'hex'));
    expect(String((p1.type as { declaration?: string }).declaration ?? p1.type)).toMatch(/varbinary/i);
    expect((request.parameters as Record<string, { value: unknown }>).p5!.value).toBe('4');
    expect(hintText(MS.changed!, Buffer.from('00000000000007d2', 'hex'))).toBe('00000000000007D2');
    expect(hintText(MS.changed!, '00000000000007d2')).toBe('00000000000007D2');
    expect(hintText({ name: 'at', kind: 'timestamp', nativeType: 'datetime2(7)' }, '2024-03-10 06:59:59.1234567')).toBe('2024-03-10 06:59:59.1234567');
  });

  it('orders text keys on the client only under a _BIN2 collation', () => {
    expect(mssqlOrdering('int', 'integer', null)).toBe('numeric');
    expect(mssqlOrdering('datetime2', 'timestamp', null)).toBe('lexical');
    expect(mssqlOrdering('nvarchar', 'text', 'Latin1_General_100_BIN2')).toBe('text');
    expect(mssqlOrdering('nvarchar', 'text', 'SQL_Latin1_General_CP1_CI_AS')).toBeUndefined();
    expect(mssqlOrdering('varbinary', 'bytes', null)).toBeUndefined();
  });
});

describe('pollDialectFor', () => {
  const source = (kind: SourceConfig['kind'], url: string) => ({ name: 's', kind, url }) as SourceConfig;
  it('asks for the driver modules to be loaded first (they are loaded only for configs that use them)', () => {
    expect(() => pollDialectFor(source('oracle', 'oracle://u:p@127.0.0.1:1521/FREEPDB1'))).toThrow(/before loadDrivers\("oracle"\)/);
  });
  it('gives Oracle and SQL Server their drivers (no connection is made here)', async () => {
    await loadDrivers('oracle');
    await loadDrivers('mssql');
    expect(pollDialectFor(source('oracle', 'oracle://u:p@127.0.0.1:1521/FREEPDB1'))).toMatchObject({ kind: 'oracle', where: 'oracle 127.0.0.1:1521/FREEPDB1' });
    expect(pollDialectFor(source('mssql', 'mssql://u:p@127.0.0.1:1433/legacy'))).toMatchObject({ kind: 'mssql', where: 'mssql 127.0.0.1:1433/legacy' });
    expect(pollDialectFor(source('oracle', 'oracle://u:p@127.0.0.1:1521/FREEPDB1')).sql).toBe(oracleSql);
  });
});
