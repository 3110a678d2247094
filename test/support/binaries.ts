// Moved to src/servers/binaries.ts (the demo uses it too); re-exported for the tests.
export {
  DEBIAN_PACKAGE,
  hasServerBinary,
  mariadbBinaries,
  missingServerPackages,
  natsServerBinary,
  postgresBinDir,
  requireMariadb,
  requireNatsServer,
  requirePostgresBinDir,
  type ServerKind,
} from '../../src/servers/index.ts';
