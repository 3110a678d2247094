import { describe, expect, it } from 'vitest';
import { classifyPollError } from '../../../capture/poll/dialects/mysql.ts';

const where = 'mysql 127.0.0.1:3307/legacy';

describe('MySQL polling errors', () => {
  it('knows every lost-connection case the capture knows', () => {
    // mysql2 after the server went away mid-pass; errno 2013 / 1927 / 2006 from the server.
    const closed = new Error("Can't add new command when connection is in closed state");
    expect(classifyPollError(closed, where)).toMatchObject({ code: 'SOURCE_UNREACHABLE', retryable: true });
    for (const errno of [1927, 2006, 2013]) {
      expect(classifyPollError({ errno, sqlMessage: 'gone' }, where).code).toBe('SOURCE_UNREACHABLE');
    }
    expect(classifyPollError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), where).code).toBe('SOURCE_UNREACHABLE');
  });

  it('tells a wrong password from a missing grant', () => {
    expect(classifyPollError({ errno: 1045, code: 'ER_ACCESS_DENIED_ERROR', sqlMessage: 'Access denied' }, where).code).toBe('SOURCE_AUTH');
    const database = classifyPollError({ errno: 1044, code: 'ER_DBACCESS_DENIED_ERROR', sqlMessage: "Access denied for user 'r'@'%' to database 'legacy'" }, where);
    expect(database).toMatchObject({ code: 'SOURCE_PRIVILEGE' });
    expect(database.message).toContain('GRANT SELECT ON <database>.* TO <bridge user>;');
  });

  it('names a statement timeout (MariaDB 1969, MySQL 3024)', () => {
    for (const errno of [1969, 3024]) {
      const error = classifyPollError(Object.assign(new Error('Query execution was interrupted (max_statement_time exceeded)'), { errno }), where);
      expect(error).toMatchObject({ code: 'SOURCE_STATE', retryable: true });
      expect(error.message).toBe(`${where}: Query execution was interrupted (max_statement_time exceeded) (a polling statement hit the statement timeout)`);
    }
  });
});
