export { MysqlSource, stateKey, replicaServerId, type MysqlCheckpoint, type MysqlState, type SnapshotProgress } from './mysql-source.ts';
export { describeServer } from './connection.ts';
export { diagnoseMysql } from './doctor.ts';
export { recordBinlogStart } from './start-point.ts';
