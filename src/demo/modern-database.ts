// The demo's "modern system": a second database on the demo's PostgreSQL, owned by an account of
// its own, that a `postgres` subscriber keeps as a copy of the stream (the sink creates its
// tables). It stands in for the cloud database a real deployment would deliver to.
import { quoteIdent, type PostgresProcessServer } from '../servers/index.ts';

export interface ModernDatabase {
  database: string;
  user: string;
  password: string;
}

export async function createModernDatabase(postgres: PostgresProcessServer, modern: ModernDatabase): Promise<void> {
  await postgres.query(`CREATE ROLE ${quoteIdent(modern.user)} LOGIN PASSWORD '${modern.password.replaceAll("'", "''")}'`);
  // The owner may create tables in the database's public schema (PostgreSQL 15 grants CREATE
  // there to the database owner only).
  await postgres.query(`CREATE DATABASE ${quoteIdent(modern.database)} OWNER ${quoteIdent(modern.user)}`);
}
