// Oracle values as the driver (fetchTypeHandler: NUMBER as text, LOBs whole, TO_CHAR'd dates)
// and LogMiner's MINE_VALUE hand them over -> canonical text, never through a float or a Date.
import { describe, expect, it } from 'vitest';
import { kindForOracleType, numberText, oracleColumn, oracleValue, selectExpression, timestampText, bindExpression } from '../../../../capture/oracle/values.ts';

const col = (dataType: string, precision: number | null = null, scale: number | null = null) => oracleColumn('C', dataType, precision, scale);

describe('oracle column kinds', () => {
  it('maps NUMBER by scale, DATE to a zone-less timestamp, LOBs and RAW', () => {
    expect(kindForOracleType('NUMBER', 10, 0)).toBe('integer');
    expect(kindForOracleType('NUMBER', 12, 2)).toBe('decimal');
    expect(kindForOracleType('NUMBER', null, null)).toBe('decimal');
    expect(kindForOracleType('BINARY_DOUBLE', null, null)).toBe('float');
    expect(kindForOracleType('DATE', null, null)).toBe('timestamp');
    expect(kindForOracleType('TIMESTAMP(6)', null, 6)).toBe('timestamp');
    expect(kindForOracleType('TIMESTAMP(3) WITH TIME ZONE', null, 3)).toBe('timestamptz');
    expect(kindForOracleType('TIMESTAMP(6) WITH LOCAL TIME ZONE', null, 6)).toBe('timestamptz');
    expect(kindForOracleType('NCLOB', null, null)).toBe('text');
    expect(kindForOracleType('RAW', null, null)).toBe('bytes');
    expect(col('CLOB').lob).toBe(true);
    expect(col('VARCHAR2').lob).toBe(false);
    expect(col('NUMBER', 38, 10).nativeType).toBe('NUMBER(38,10)');
  });
});

describe('NUMBER text', () => {
  it('is exact for what TO_CHAR, MINE_VALUE and the thin driver print', () => {
    expect(numberText('.5')).toBe('0.5');
    expect(numberText('-.5')).toBe('-0.5');
    expect(numberText('12345678901234567890.1234567890')).toBe('12345678901234567890.1234567890');
    expect(numberText('99999999999999999999999999999999999999')).toBe('99999999999999999999999999999999999999');
    expect(numberText('1.0E+40')).toBe('1' + '0'.repeat(40));
    expect(numberText('1.5E-7')).toBe('0.00000015');
    expect(numberText('-0')).toBe('0');
    expect(numberText('~')).toBe('Infinity');
  });

  it('never passes through a JS number (2^53 + 1 keeps its last digit)', () => {
    expect(oracleValue(col('NUMBER', 19, 0), '9007199254740993')).toBe('9007199254740993');
    expect(oracleValue(col('NUMBER', 38, 10), '-.0000000001')).toBe('-0.0000000001');
  });
});

describe('temporal text', () => {
  it('keeps exactly the type fraction digits, offsets as +HH:MM', () => {
    expect(oracleValue(col('DATE'), '2024-03-10 06:59:59')).toBe('2024-03-10 06:59:59');
    // LogMiner prints TIMESTAMP in NLS_TIMESTAMP_FORMAT (FF9); the snapshot with FF6.
    expect(oracleValue(col('TIMESTAMP(6)'), '2024-03-10 06:59:59.123456000')).toBe('2024-03-10 06:59:59.123456');
    expect(oracleValue(col('TIMESTAMP(6)'), '2024-03-10 06:59:59.123456')).toBe('2024-03-10 06:59:59.123456');
    expect(oracleValue(col('TIMESTAMP(9)'), '2024-03-10 06:59:59.123456789')).toBe('2024-03-10 06:59:59.123456789');
    expect(oracleValue(col('TIMESTAMP(0)'), '2024-03-10 06:59:59')).toBe('2024-03-10 06:59:59');
    expect(oracleValue(col('TIMESTAMP(3) WITH TIME ZONE'), '2024-03-10 06:59:59.120000000 -5:00')).toBe('2024-03-10 06:59:59.120-05:00');
    expect(oracleValue(col('TIMESTAMP(3) WITH TIME ZONE'), '2024-03-10 06:59:59.120+02:00')).toBe('2024-03-10 06:59:59.120+02:00');
    // The session runs at UTC: LOCAL TIME ZONE values print in UTC.
    expect(oracleValue(col('TIMESTAMP(6) WITH LOCAL TIME ZONE'), '2024-03-10 06:59:59.000001')).toBe('2024-03-10 06:59:59.000001+00:00');
    expect(timestampText('not a time', 'DATE')).toBe('not a time');
  });

  it('refuses a JS Date (the driver builds it in local time, cut to milliseconds)', () => {
    expect(() => oracleValue(col('DATE'), new Date(0))).toThrow(/TO_CHAR/);
  });

  it('selects DATE and TIMESTAMP through TO_CHAR with the type own digits', () => {
    expect(selectExpression({ name: 'D', dataType: 'DATE' })).toBe(`TO_CHAR("D", 'YYYY-MM-DD HH24:MI:SS') AS "D"`);
    expect(selectExpression({ name: 'T', dataType: 'TIMESTAMP(9)' })).toBe(`TO_CHAR("T", 'YYYY-MM-DD HH24:MI:SS.FF9') AS "T"`);
    expect(selectExpression({ name: 'Z', dataType: 'TIMESTAMP(3) WITH TIME ZONE' })).toBe(`TO_CHAR("Z", 'YYYY-MM-DD HH24:MI:SS.FF3TZH:TZM') AS "Z"`);
    expect(selectExpression({ name: 'L', dataType: 'TIMESTAMP(6) WITH LOCAL TIME ZONE' })).toBe(`TO_CHAR("L", 'YYYY-MM-DD HH24:MI:SS.FF6') AS "L"`);
    expect(selectExpression({ name: 'N', dataType: 'NUMBER' })).toBe('"N"');
    expect(bindExpression({ dataType: 'DATE' }, ':2')).toBe(`TO_DATE(:2, 'YYYY-MM-DD HH24:MI:SS')`);
  });
});

describe('text, floats and bytes', () => {
  it('reads Oracle empty string as NULL, keeps CHAR padding and NVARCHAR2 text', () => {
    expect(oracleValue(col('VARCHAR2'), '')).toBeNull();
    expect(oracleValue(col('CHAR'), 'ab  ')).toBe('ab  ');
    expect(oracleValue(col('NVARCHAR2'), 'Grüße 日本')).toBe('Grüße 日本');
    expect(oracleValue(col('CLOB'), 'x'.repeat(70_000))).toHaveLength(70_000);
    expect(oracleValue(col('VARCHAR2'), null)).toBeNull();
  });

  it('BINARY_FLOAT and BINARY_DOUBLE as the shortest round-trip text', () => {
    expect(oracleValue(col('BINARY_FLOAT'), Math.fround(0.1))).toBe('0.1');
    expect(oracleValue(col('BINARY_DOUBLE'), 0.1)).toBe('0.1');
    expect(oracleValue(col('BINARY_DOUBLE'), '1.5E+000')).toBe('1.5');
    expect(oracleValue(col('BINARY_DOUBLE'), Number.POSITIVE_INFINITY)).toBe('Infinity');
  });

  it('RAW and BLOB as bytes, from a Buffer or LogMiner hex', () => {
    expect(oracleValue(col('RAW'), Buffer.from([0, 255, 16]))).toEqual(new Uint8Array([0, 255, 16]));
    expect(oracleValue(col('RAW'), '00FF10')).toEqual(new Uint8Array([0, 255, 16]));
    expect(oracleValue(col('RAW'), "HEXTORAW('00ff10')")).toEqual(new Uint8Array([0, 255, 16]));
    expect(oracleValue(col('BLOB'), Buffer.alloc(3, 7))).toEqual(new Uint8Array([7, 7, 7]));
  });
});
