// Where the server binaries live on Debian 12, and which of them are missing. The Debian paths are
// not all in PATH (nats-server and mariadbd are in /usr/sbin), so look there explicitly.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type ServerKind = 'postgres' | 'nats' | 'mariadb';

/** The Debian package that provides each server; what scripts/install-deps.sh installs. */
export const DEBIAN_PACKAGE: Record<ServerKind, string> = {
  postgres: 'postgresql-15',
  nats: 'nats-server',
  mariadb: 'mariadb-server',
};

/** First executable named `name` in the given dirs, then in PATH and the sbin dirs (not in PATH for non-root users). */
export function findExecutable(name: string, preferredDirs: string[] = []): string | undefined {
  const dirs = [
    ...preferredDirs,
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ].filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

const INSTALL_HINT = 'run scripts/install-deps.sh (or set HMS_SYNC_TESTCONTAINERS=1 with a Docker engine)';

/**
 * The PostgreSQL 15 bin dir: $HMS_SYNC_PG_BINDIR, Debian's /usr/lib/postgresql/15/bin, or
 * `pg_config --bindir`. initdb and postgres are not in PATH on Debian.
 */
export function postgresBinDir(): string | undefined {
  const candidates = [process.env.HMS_SYNC_PG_BINDIR, '/usr/lib/postgresql/15/bin'];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // no pg_config
  }
  return candidates.find((dir): dir is string => !!dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')));
}

export function natsServerBinary(): string | undefined {
  return findExecutable('nats-server');
}

export function mariadbBinaries(): { mariadbd: string; installDb: string } | undefined {
  const mariadbd = findExecutable('mariadbd');
  const installDb = findExecutable('mariadb-install-db');
  return mariadbd && installDb ? { mariadbd, installDb } : undefined;
}

export function hasServerBinary(kind: ServerKind): boolean {
  switch (kind) {
    case 'postgres':
      return postgresBinDir() !== undefined;
    case 'nats':
      return natsServerBinary() !== undefined;
    case 'mariadb':
      return mariadbBinaries() !== undefined;
  }
}

/** Debian packages whose server binaries are missing, in a fixed order. */
export function missingServerPackages(kinds: ServerKind[] = ['postgres', 'nats', 'mariadb']): string[] {
  return kinds.filter((kind) => !hasServerBinary(kind)).map((kind) => DEBIAN_PACKAGE[kind]);
}

export function requirePostgresBinDir(): string {
  const dir = postgresBinDir();
  if (!dir) throw new Error(`PostgreSQL 15 binaries (initdb, postgres) not found; ${INSTALL_HINT}`);
  return dir;
}

export function requireNatsServer(): string {
  const bin = natsServerBinary();
  if (!bin) throw new Error(`nats-server not found; ${INSTALL_HINT}`);
  return bin;
}

export function requireMariadb(): { mariadbd: string; installDb: string } {
  const bins = mariadbBinaries();
  if (!bins) throw new Error(`mariadbd / mariadb-install-db not found; ${INSTALL_HINT}`);
  return bins;
}
