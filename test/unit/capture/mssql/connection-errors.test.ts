// mssql / tedious errors -> one clear line naming the server and what to do. The unreachable
// case is real: `mssql` against a closed loopback port.
import sql from 'mssql';
import { describe, expect, it } from 'vitest';
import { classifyMssqlError, connectMssql, describeServer, parseMssqlUrl } from '../../../../capture/mssql/connection.ts';
import { HmsSyncError } from '../../../../src/errors.ts';
import { freePort } from '../../../../src/servers/ports.ts';

const WHERE = 'mssql 127.0.0.1:1433/legacy';

function requestError(number: number, message: string): Error {
  return Object.assign(new sql.RequestError(message, 'EREQUEST'), { number });
}

describe('mssql urls', () => {
  it('parse, default to an encrypted connection, and name the server without the password', () => {
    const url = 'mssql://reader:p%40ss@127.0.0.1:1433/legacy?trustServerCertificate=true';
    expect(parseMssqlUrl(url)).toMatchObject({ user: 'reader', password: 'p@ss', database: 'legacy', port: 1433, encrypt: true, trustServerCertificate: true });
    expect(parseMssqlUrl('sqlserver://u:p@h/db?encrypt=false')).toMatchObject({ encrypt: false, trustServerCertificate: false, port: 1433 });
    expect(describeServer(url)).toBe(WHERE);
    expect(() => parseMssqlUrl('mssql://u:p@h:1433')).toThrow(/must name the database/);
  });
});

describe('mssql error classification', () => {
  it('login failed (18456, ELOGIN): SOURCE_AUTH', () => {
    const e = classifyMssqlError(new sql.ConnectionError("Login failed for user 'reader'.", 'ELOGIN'), WHERE);
    expect(e).toMatchObject({ code: 'SOURCE_AUTH', retryable: true });
    expect(e.message).toBe(`${WHERE}: authentication failed (Login failed for user 'reader'.); check the user and password in the source url`);
    expect(classifyMssqlError(requestError(18456, "Login failed for user 'x'."), WHERE).code).toBe('SOURCE_AUTH');
  });

  it('socket errors and timeouts: SOURCE_UNREACHABLE', () => {
    for (const error of [new sql.ConnectionError('Failed to connect to 10.0.0.1:1433 in 15000ms', 'ETIMEOUT'), new sql.ConnectionError('Connection lost - read ECONNRESET', 'ESOCKET')]) {
      const e = classifyMssqlError(error, WHERE);
      expect(e.code).toBe('SOURCE_UNREACHABLE');
      expect(e.message).toMatch(/^mssql 127\.0\.0\.1:1433\/legacy: cannot reach the server: .*check that SQL Server runs/);
    }
  });

  it('permission denied (229, 262) and no user in the database (4060, 916): SOURCE_PRIVILEGE', () => {
    expect(classifyMssqlError(requestError(229, "The SELECT permission was denied on the object 'orders', database 'legacy', schema 'dbo'."), WHERE)).toMatchObject({
      code: 'SOURCE_PRIVILEGE',
    });
    expect(classifyMssqlError(requestError(262, 'CREATE TABLE permission denied in database legacy.'), WHERE).code).toBe('SOURCE_PRIVILEGE');
    const db = classifyMssqlError(new sql.ConnectionError('Cannot open database "legacy" requested by the login. The login failed.', 'ELOGIN'), WHERE);
    expect(db.code).toBe('SOURCE_PRIVILEGE');
    expect(db.message).toMatch(/CREATE USER/);
    expect(classifyMssqlError(requestError(313, 'An insufficient number of arguments were supplied'), WHERE).code).toBe('SOURCE_STATE');
  });
});

describe('unreachable host, for real', () => {
  it('a refused connection on loopback is one clear SOURCE_UNREACHABLE line naming the server', async () => {
    // Free a moment ago: nothing listens there.
    const port = await freePort();
    const url = `mssql://reader:secret@127.0.0.1:${port}/legacy`;
    const error = await connectMssql(url, describeServer(url)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HmsSyncError);
    const e = error as HmsSyncError;
    expect(e.code).toBe('SOURCE_UNREACHABLE');
    expect(e.retryable).toBe(true);
    expect(e.message.startsWith(`mssql 127.0.0.1:${port}/legacy: cannot reach the server: Failed to connect to 127.0.0.1:${port}`)).toBe(true);
    expect(e.message).not.toContain('\n');
    expect(e.message).not.toContain('secret');
  });
});
