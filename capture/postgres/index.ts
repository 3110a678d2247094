export { PostgresSource, stateKey, type PgCheckpoint, type PostgresState } from './postgres-source.ts';
export { describeServer } from './connection.ts';
