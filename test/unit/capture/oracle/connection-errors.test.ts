// Driver errors -> one clear line naming the server and what to do, with the code that sets the
// retry delay. The unreachable case is real: node-oracledb (thin) against a closed loopback port.
import { describe, expect, it } from 'vitest';
import { classifyOracleError, connectOracle, describeServer, parseOracleUrl } from '../../../../capture/oracle/connection.ts';
import { HmsSyncError } from '../../../../src/errors.ts';
import { freePort } from '../../../../src/servers/ports.ts';

const WHERE = 'oracle 127.0.0.1:1521/FREEPDB1';

function oraError(code: string, message: string, errorNum?: number): Error {
  return Object.assign(new Error(message), { code, ...(errorNum ? { errorNum } : {}) });
}

describe('oracle urls', () => {
  it('parse into an Easy Connect string and name the server without the password', () => {
    const url = 'oracle://reader:p%40ss@127.0.0.1:1521/FREEPDB1';
    expect(parseOracleUrl(url)).toMatchObject({ user: 'reader', password: 'p@ss', connectString: '127.0.0.1:1521/FREEPDB1', service: 'FREEPDB1' });
    expect(parseOracleUrl('oracle://u:p@db.local/ORCL').port).toBe(1521);
    expect(describeServer(url)).toBe(WHERE);
    expect(describeServer(url)).not.toContain('p@ss');
    expect(() => parseOracleUrl('oracle://u:p@127.0.0.1:1521')).toThrow(/must name the service/);
  });
});

describe('oracle error classification', () => {
  it('wrong password: SOURCE_AUTH', () => {
    const e = classifyOracleError(oraError('ORA-01017', 'ORA-01017: invalid credential or not authorized; logon denied\nHelp: https://docs.oracle.com/error-help/db/ora-01017/', 1017), WHERE);
    expect(e.code).toBe('SOURCE_AUTH');
    expect(e.retryable).toBe(true);
    expect(e.message).toBe(`${WHERE}: authentication failed (ORA-01017: invalid credential or not authorized; logon denied); check the user and password in the source url`);
  });

  it('no listener, refused, timed out: SOURCE_UNREACHABLE', () => {
    for (const error of [
      oraError('ORA-12541', 'ORA-12541: Cannot connect. No listener at host 127.0.0.1 port 1521.', 12541),
      oraError('NJS-503', 'NJS-503: connection to host 127.0.0.1 port 1521 could not be established. (CONNECTION_ID=x)\nconnect ECONNREFUSED 127.0.0.1:1521'),
      oraError('NJS-510', 'NJS-510: connection to host 10.0.0.1 port 1521 timed out'),
      oraError('ECONNRESET', 'read ECONNRESET'),
    ]) {
      const e = classifyOracleError(error, WHERE);
      expect(e.code).toBe('SOURCE_UNREACHABLE');
      expect(e.message).toMatch(/^oracle 127\.0\.0\.1:1521\/FREEPDB1: cannot reach the server: .*; check that Oracle and its listener run/);
      expect(e.message).not.toContain('\n');
    }
  });

  it('missing privilege: SOURCE_PRIVILEGE with what to grant', () => {
    const e = classifyOracleError(oraError('ORA-01031', 'ORA-01031: insufficient privileges', 1031), WHERE);
    expect(e.code).toBe('SOURCE_PRIVILEGE');
    expect(e.message).toMatch(/LOGMINING/);
    expect(classifyOracleError(oraError('ORA-00942', 'ORA-00942: table or view "LEGACY"."T" does not exist', 942), WHERE).message).toMatch(/GRANT SELECT ON/);
    expect(classifyOracleError(oraError('ORA-01045', 'ORA-01045: user lacks CREATE SESSION privilege', 1045), WHERE).message).toMatch(/GRANT CREATE SESSION/);
  });

  it('undo gone for the snapshot SCN: SOURCE_STATE with the way out; HmsSyncErrors pass through', () => {
    expect(classifyOracleError(oraError('ORA-01555', 'ORA-01555: snapshot too old', 1555), WHERE)).toMatchObject({ code: 'SOURCE_STATE' });
    const own = new HmsSyncError('CONFIG', 'x');
    expect(classifyOracleError(own, WHERE)).toBe(own);
  });
});

describe('unreachable host, for real', () => {
  it('a refused connection on loopback is one clear SOURCE_UNREACHABLE line naming the server', async () => {
    // Free a moment ago: nothing listens there.
    const port = await freePort();
    const url = `oracle://reader:secret@127.0.0.1:${port}/FREEPDB1`;
    const error = await connectOracle(url, describeServer(url)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HmsSyncError);
    const e = error as HmsSyncError;
    expect(e.code).toBe('SOURCE_UNREACHABLE');
    expect(e.retryable).toBe(true);
    expect(e.message.startsWith(`oracle 127.0.0.1:${port}/FREEPDB1: cannot reach the server: `)).toBe(true);
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.message).not.toContain('\n');
    expect(e.message).not.toContain('secret');
  });
});
