import { describe, expect, it } from 'vitest';
import { bearerCheck } from '../../../src/http/auth.ts';

describe('bearerCheck', () => {
  const check = bearerCheck('tok-123');
  it('passes the configured token, case-insensitive scheme', () => {
    expect(check('Bearer tok-123')).toBeUndefined();
    expect(check('bearer tok-123')).toBeUndefined();
  });
  it('says why a header is refused', () => {
    expect(check(undefined)).toMatch(/missing bearer token/);
    expect(check('')).toMatch(/missing bearer token/);
    expect(check('Basic dG9rLTEyMw==')).toMatch(/malformed/);
    expect(check('Bearer tok-1234')).toBe('wrong bearer token');
    expect(check('Bearer tok-12')).toBe('wrong bearer token');
  });
  it('refuses every mutating call when no token is configured', () => {
    expect(bearerCheck(undefined)('Bearer anything')).toMatch(/set http.token/);
  });
});
