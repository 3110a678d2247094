import { beforeEach, describe, expect, it } from 'vitest';
import { clearSecrets, redactSecrets, redactUrl, registerSecret } from '../../../src/util/secrets.ts';

beforeEach(() => clearSecrets());

describe('redactSecrets', () => {
  it('hides registered secrets, longest first, and their URL-encoded form', () => {
    registerSecret('p@ss/word');
    registerSecret('p@ss/word-longer');
    expect(redactSecrets('a p@ss/word-longer b p@ss/word c p%40ss%2Fword')).toBe('a *** b *** c ***');
  });

  it('treats regex characters in secrets literally', () => {
    registerSecret('a.b*c(d)');
    expect(redactSecrets('xa.b*c(d)y aXbbc(d)')).toBe('x***y aXbbc(d)');
  });

  it('leaves very short values alone (they would garble every line)', () => {
    registerSecret('1');
    registerSecret('');
    expect(redactSecrets('port 1')).toBe('port 1');
  });

  it('hides URL passwords and password parameters even when not registered', () => {
    expect(redactSecrets('connect postgres://reader:s3cret@db:5432/x failed')).toBe('connect postgres://reader:***@db:5432/x failed');
    expect(redactSecrets('mssql://h/db?user=sa&password=s3cret&x=1')).toBe('mssql://h/db?user=sa&password=***&x=1');
    expect(redactSecrets('postgres://reader@db/x')).toBe('postgres://reader@db/x');
  });
});

describe('redactUrl', () => {
  it.each([
    ['postgres://reader:s3cret@127.0.0.1:5432/legacy', 'postgres://reader:***@127.0.0.1:5432/legacy'],
    ['mysql://root:p%40ss@db/x', 'mysql://root:***@db/x'],
    ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4222'],
    ['postgres://reader@db/x?sslmode=require', 'postgres://reader@db/x?sslmode=require'],
    ['not a url:pw@', 'not a url:pw@'],
  ])('%s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
