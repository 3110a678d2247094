// Isolation on the servers shared by the whole run (test/global-setup.ts): every test gets its
// own database and its own names, so test files can run in parallel against one PostgreSQL and
// one nats-server.
//
//   await using db = await freshDatabase();
//   const stream = uniqueName('cdc');
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { pgQuery, quoteIdent } from './pg-access.ts';
import type {} from './provided-context.ts';
import { waitFor } from './wait.ts';

let counter = 0;

/**
 * `<prefix>_<pid36>_<n>_<random>`, lower case [a-z0-9_] and at most 63 characters: valid
 * unquoted as a PostgreSQL database, role, publication or replication-slot name, and as a NATS
 * stream, consumer, KV bucket or subject token.
 */
export function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const suffix = `_${process.pid.toString(36)}_${(++counter).toString(36)}_${randomBytes(3).toString('hex')}`;
  return `${clean.slice(0, 63 - suffix.length)}${suffix}`;
}

export function sharedNatsUrl(): string {
  return inject('natsUrl');
}

/** The superuser URL of the shared PostgreSQL, to `db` (default `postgres`). */
export function sharedPgSuperuserUrl(db = 'postgres'): string {
  return withCredentials(inject('pgSuperuserUrl'), undefined, undefined, db);
}

/** A URL to the shared PostgreSQL as another user. */
export function sharedPgUrl(user: string, password: string, db = 'postgres'): string {
  return withCredentials(inject('pgSuperuserUrl'), user, password, db);
}

function withCredentials(base: string, user: string | undefined, password: string | undefined, db: string): string {
  const url = new URL(base);
  if (user !== undefined) url.username = encodeURIComponent(user);
  if (password !== undefined) url.password = encodeURIComponent(password);
  url.pathname = `/${encodeURIComponent(db)}`;
  return url.toString();
}

export interface TestRole {
  name: string;
  password: string;
  /** URL to the fresh database as this role. */
  url: string;
}

export interface FreshDatabase extends AsyncDisposable {
  name: string;
  /** Superuser URL of this database. */
  url: string;
  /** URL of this database as another user. */
  urlFor(user: string, password: string): string;
  /** One statement through a short-lived superuser connection to this database. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /**
   * CREATE ROLE <unique name> LOGIN PASSWORD … plus `attributes` (e.g. 'REPLICATION'). Roles
   * are cluster-wide, so the role is dropped when the database is.
   */
  createRole(prefix: string, attributes?: string): Promise<TestRole>;
}

/**
 * A new database on the shared PostgreSQL. Dispose drops it, first ending whatever holds it:
 * walsenders on its replication slots, the slots themselves (a logical slot blocks DROP
 * DATABASE), and other connections (WITH (FORCE)); then the roles made by createRole.
 */
export async function freshDatabase(prefix = 'test'): Promise<FreshDatabase> {
  const name = uniqueName(prefix);
  const admin = sharedPgSuperuserUrl();
  await pgQuery(admin, `CREATE DATABASE ${quoteIdent(name)}`);
  const url = sharedPgSuperuserUrl(name);
  const roles: string[] = [];
  let disposed = false;
  return {
    name,
    url,
    urlFor: (user, password) => sharedPgUrl(user, password, name),
    query: <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) => pgQuery<R>(url, sql, params),
    async createRole(rolePrefix, attributes = '') {
      const role = uniqueName(rolePrefix);
      const password = randomBytes(12).toString('hex');
      // Utility statements take no bind parameters; the password is hex, so literal quoting is safe.
      await pgQuery(admin, `CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${password}' ${attributes}`);
      roles.push(role);
      return { name: role, password, url: sharedPgUrl(role, password, name) };
    },
    async [Symbol.asyncDispose]() {
      if (disposed) return;
      disposed = true;
      await dropDatabase(admin, name);
      for (const role of roles) await pgQuery(admin, `DROP ROLE IF EXISTS ${quoteIdent(role)}`);
    },
  };
}

async function dropDatabase(admin: string, name: string): Promise<void> {
  await waitFor(
    async () => {
      const slots = await pgQuery<{ slot_name: string; active_pid: number | null }>(
        admin,
        'SELECT slot_name, active_pid FROM pg_replication_slots WHERE database = $1',
        [name],
      );
      for (const slot of slots) {
        if (slot.active_pid !== null) {
          await pgQuery(admin, 'SELECT pg_terminate_backend($1)', [slot.active_pid]);
        } else {
          // Between our SELECT and here a client may have re-acquired the slot; the next poll retries.
          await pgQuery(admin, 'SELECT pg_drop_replication_slot($1)', [slot.slot_name]).catch(() => undefined);
        }
      }
      return slots.length === 0;
    },
    { what: `the replication slots of database ${name} to be dropped`, timeoutMs: 30_000, intervalMs: 50 },
  );
  await pgQuery(admin, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}
