// Moved to src/servers/ (os-user.ts, binaries.ts, temp-dir.ts, pids.ts, server-process.ts,
// exit-cleanup.ts): the demo starts the same servers. Re-exported for the tests and mariadb.ts.
export {
  descendantPids,
  findExecutable,
  isAlive,
  isRoot,
  launchOnFreePort,
  logTail,
  makeTempDir,
  removeTempDir,
  runToCompletion,
  ServerProcess,
  serviceUser,
  waitUntilReady,
  type ExitInfo,
  type LaunchSpec,
  type OsUser,
} from '../../src/servers/index.ts';
