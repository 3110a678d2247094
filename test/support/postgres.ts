// Moved to src/servers/postgres.ts (the demo uses it too); re-exported for the tests.
export { startPostgresProcess, type PostgresProcessServer } from '../../src/servers/index.ts';
