import { describe, expect, it } from 'vitest';
import { authenticator, forbidden, roleAllows, type Principal } from '../../../src/http/auth.ts';

describe('scoped tokens', () => {
  const authenticate = authenticator({
    token: 'admin-token-0123456789',
    tokens: [
      { name: 'billing-sink', token: 'billing-token-0123456789', role: 'billing', allow: ['subscribers'] },
      { name: 'ops', token: 'ops-token-0123456789abcd', allow: ['sources', 'review'] },
    ],
  });
  const who = (token: string): Principal => {
    const result = authenticate(`Bearer ${token}`);
    if (!('principal' in result)) throw new Error(JSON.stringify(result));
    return result.principal;
  };

  it('resolves each token to its principal, and refuses unknown or malformed ones', () => {
    expect(who('admin-token-0123456789')).toMatchObject({ name: 'admin', admin: true });
    expect(who('billing-token-0123456789')).toMatchObject({ name: 'billing-sink', admin: false, role: 'billing' });
    expect(authenticate('Bearer nope')).toEqual({ refusal: 'wrong bearer token' });
    expect(authenticate('Token x')).toEqual({ refusal: 'malformed Authorization header: expected "Bearer <token>"' });
    expect(authenticate(undefined)).toEqual({ anonymous: true });
  });

  it('a sink token cannot pause sources or work the review queue; ops cannot register subscribers', () => {
    const sink = who('billing-token-0123456789');
    const ops = who('ops-token-0123456789abcd');
    expect(forbidden(sink, 'subscribers')).toBeUndefined();
    expect(forbidden(sink, 'sources')).toMatch(/token "billing-sink" may not use sources \(it allows: subscribers\)/);
    expect(forbidden(sink, 'review')).toBeDefined();
    expect(forbidden(ops, 'sources')).toBeUndefined();
    expect(forbidden(ops, 'subscribers')).toBeDefined();
    expect(forbidden(ops, 'admin')).toMatch(/needs the admin token/);
    expect(forbidden(who('admin-token-0123456789'), 'admin')).toBeUndefined();
  });

  it('a role-scoped token sees only objects of its role', () => {
    const sink = who('billing-token-0123456789');
    expect(roleAllows(sink, 'billing')).toBe(true);
    expect(roleAllows(sink, 'permits')).toBe(false);
    expect(roleAllows(sink, undefined)).toBe(false);
    expect(roleAllows(who('admin-token-0123456789'), 'permits')).toBe(true);
    expect(roleAllows(who('ops-token-0123456789abcd'), 'permits')).toBe(true);
  });
});
