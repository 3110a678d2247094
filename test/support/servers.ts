// The test servers: real PostgreSQL 15, nats-server (JetStream) and MariaDB, each on its own free
// 127.0.0.1 port in its own temp dir, removed at dispose:
//
//   await using pg = await startPostgres();
//
// Backend: HMS_SYNC_TESTCONTAINERS=1 forces Docker containers (testcontainers), =0 forces child
// processes. Unset: a child process when the Debian binary is installed, else a container when
// a Docker engine answers, else the process launcher's error (run scripts/install-deps.sh).
import { hasServerBinary, type ServerKind } from './binaries.ts';
import { dockerAvailable, startMysqlContainer, startNatsContainer, startPostgresContainer } from './containers.ts';
import { startMariadbProcess } from './mariadb.ts';
import { startNatsProcess } from './nats.ts';
import { startPostgresProcess } from './postgres.ts';
import type {
  MariadbOptions,
  MariadbServer,
  NatsOptions,
  NatsServer,
  PostgresOptions,
  PostgresServer,
} from './server-types.ts';

export { dockerAvailable } from './containers.ts';
export { freePort, LOOPBACK } from './ports.ts';
export { waitFor, type WaitForOptions } from './wait.ts';
export type * from './server-types.ts';

export type ServerBackend = 'process' | 'container';

export async function serverBackend(kind: ServerKind): Promise<ServerBackend> {
  const forced = process.env.HMS_SYNC_TESTCONTAINERS;
  if (forced === '1') return 'container';
  if (forced === '0' || hasServerBinary(kind)) return 'process';
  return (await dockerAvailable()) ? 'container' : 'process';
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  return (await serverBackend('postgres')) === 'container'
    ? startPostgresContainer(options)
    : startPostgresProcess(options);
}

export async function startNats(options: NatsOptions = {}): Promise<NatsServer> {
  return (await serverBackend('nats')) === 'container' ? startNatsContainer(options) : startNatsProcess(options);
}

/** MariaDB 10.11 as a process; MySQL 8 on the container backend. */
export async function startMariadb(options: MariadbOptions = {}): Promise<MariadbServer> {
  return (await serverBackend('mariadb')) === 'container'
    ? startMysqlContainer(options)
    : startMariadbProcess(options);
}
