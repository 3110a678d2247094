export { OracleSource, stateKey, type OracleCheckpoint, type OracleState, type OracleSourceOptions, type SnapshotProgress } from './oracle-source.ts';
export { classifyOracleError, connectOracle, describeServer, fetchTypeHandler, parseOracleUrl, quoteIdent, SESSION_SETUP } from './connection.ts';
export { diagnoseOracle, logminerGrants, supplementalLoggingSql } from './doctor.ts';
export { kindForOracleType, oracleColumn, oracleValue, selectExpression, type OracleColumn } from './values.ts';
export { oraclePosition, snapshotPosition } from './position.ts';
