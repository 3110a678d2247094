/**
 * Hash-diff polling: capture for accounts that may only SELECT (docs/polling.md).
 */
import { HmsSyncError } from '../../src/errors.ts';
import type { CaptureSource } from '../../src/ports.ts';
import type { CaptureContext } from '../../src/runtime/sources.ts';
import type { PollDialect } from './dialect.ts';
import { mysqlDialect } from './dialects/mysql.ts';
import { mssqlModules, oracleModules } from '../../src/runtime/drivers.ts';
import { postgresDialect } from './dialects/postgres.ts';
import { sqliteDialect } from './dialects/sqlite.ts';
import type { PollCheckpoint } from './engine.ts';
import { PollSource, type PollSourceOptions } from './poll-source.ts';

export { PollSource, POLL_DEFAULTS, pollTable, type PollSourceOptions } from './poll-source.ts';
export { PollEngine, type EngineStats, type PassStats, type PollCheckpoint } from './engine.ts';
export type { PollConnection, PollDialect, PollSql, TableCatalog } from './dialect.ts';
export { postgresDialect } from './dialects/postgres.ts';
export { mysqlDialect } from './dialects/mysql.ts';
export { sqliteDialect } from './dialects/sqlite.ts';
export { postgresFastSql, postgresSql } from './sql/postgres.ts';
export { mysqlSql } from './sql/mysql.ts';
export { sqliteSql } from './sql/sqlite.ts';
export { oracleSql } from './sql/oracle.ts';
export { mssqlSql } from './sql/mssql.ts';
export { pollPosition, parsePollPosition } from './position.ts';
export {
  KvResyncQueue,
  queueResync,
  resyncRequestKey,
  resyncRequestPrefix,
  type PendingRequest,
  type ResyncQueue,
  type ResyncRequest,
} from './resync-requests.ts';
export { PollStateStore } from './state.ts';

/** The polling dialect for a source. */
export function pollDialectFor(source: CaptureContext['source']): PollDialect {
  switch (source.kind) {
    case 'postgres':
      return postgresDialect(source.url);
    case 'mysql':
      return mysqlDialect(source.url);
    case 'sqlite':
      return sqliteDialect(source.path ?? source.url);
    case 'oracle':
      return oracleModules().dialect.oracleDialect(source.url);
    case 'mssql':
      return mssqlModules().dialect.mssqlDialect(source.url);
    default:
      throw new HmsSyncError(
        'CONFIG',
        `source ${source.name}: polling ${source.kind} needs its driver, which is not in this build (its SQL is: capture/poll/sql/${source.kind}.ts)`,
      );
  }
}

/** `capture: poll` for any source kind with a polling dialect. */
export function createPollSource(ctx: CaptureContext, extra: Partial<PollSourceOptions> = {}): CaptureSource<PollCheckpoint> {
  const { source } = ctx;
  return new PollSource({
    name: source.name,
    dialect: pollDialectFor(source),
    mappings: ctx.mappings,
    offsets: ctx.offsets,
    log: ctx.log,
    onReady: ctx.onReady,
    ...(ctx.observer !== undefined ? { observer: ctx.observer } : {}),
    intervalMs: source.poll.intervalMs,
    debounceMs: source.poll.debounceMs,
    chunkSize: source.poll.chunkSize,
    ...(source.poll.concurrency !== undefined ? { concurrency: source.poll.concurrency } : {}),
    ...(source.poll.statementTimeoutMs !== undefined ? { statementTimeoutMs: source.poll.statementTimeoutMs } : {}),
    ...extra,
  });
}
