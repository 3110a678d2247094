export { MssqlSource, stateKey, type MssqlCheckpoint, type MssqlState, type MssqlSourceOptions, type SnapshotProgress } from './mssql-source.ts';
export { classifyMssqlError, connectMssql, describeServer, parseMssqlUrl, quoteIdent } from './connection.ts';
export { diagnoseMssql, enableCdcSql } from './doctor.ts';
export { kindForMssqlType, mssqlColumn, mssqlValue, selectExpression, type MssqlColumn } from './values.ts';
export { mssqlPosition, snapshotPosition } from './position.ts';
