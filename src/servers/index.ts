// Real servers as child processes on free 127.0.0.1 ports, each in its own temp dir, removed at
// dispose: PostgreSQL 15 (wal_level=logical) and nats-server (JetStream). `hms-sync demo` and the
// tests start them; neither outlives the process that started it.
//
//   await using pg = await startPostgresProcess();
export {
  DEBIAN_PACKAGE,
  findExecutable,
  hasServerBinary,
  mariadbBinaries,
  missingServerPackages,
  natsServerBinary,
  postgresBinDir,
  requireMariadb,
  requireNatsServer,
  requirePostgresBinDir,
  type ServerKind,
} from './binaries.ts';
export { natsReady, startNatsCluster, startNatsProcess, type NatsCluster, type NatsProcessServer } from './nats.ts';
export { isRoot, serviceUser, type OsUser } from './os-user.ts';
export { pgQuery, pgReady, pgUrl, quoteIdent } from './pg-access.ts';
export { descendantPids, isAlive } from './pids.ts';
export { freePort, LOOPBACK } from './ports.ts';
export { startPostgresProcess, type PostgresProcessServer } from './postgres.ts';
export {
  launchOnFreePort,
  logTail,
  runToCompletion,
  ServerProcess,
  waitUntilReady,
  type ExitInfo,
  type LaunchSpec,
} from './server-process.ts';
export { makeTempDir, removeTempDir } from './temp-dir.ts';
export type * from './types.ts';
export { waitFor, type WaitForOptions } from './wait.ts';
