// poll.statementTimeout is a server-side limit per statement: a poll statement stuck behind a
// lock the test holds is cancelled by PostgreSQL after the timeout, with a clear error.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pollTable, postgresDialect } from '../../../capture/poll/index.ts';
import { parseMapping } from '../../../src/mapping/index.ts';
import { freshDatabase } from '../../support/context.ts';
import { COUNTER_MAPPING, createCounters } from '../../support/pg-load.ts';

describe('poll statement timeout', () => {
  it('PostgreSQL: a statement over poll.statementTimeout fails with the server saying so', async () => {
    await using db = await freshDatabase('polltimeout');
    await createCounters(db.url, 10);
    const { mapping } = parseMapping('/m/src/counters.yaml', COUNTER_MAPPING);
    const dialect = postgresDialect(db.url);
    const connection = await dialect.connect({ statementTimeoutMs: 300 });
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      const catalog = await connection.describe([mapping!]);
      const table = pollTable(mapping!, catalog.get('public.counters')!);
      expect((await connection.checksum(dialect.sql.checksum(table, {}))).rows).toBe(10);
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE counters IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      await expect(connection.checksum(dialect.sql.checksum(table, {}))).rejects.toThrow(/statement timeout/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
      await connection.close();
    }
  }, 30_000);
});
