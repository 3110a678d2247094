import { createHash, timingSafeEqual } from 'node:crypto';
import type { ScopedToken } from '../config/types.ts';

/**
 * What a scoped token may do (docs/operations.md "Tokens and roles"):
 * - `subscribers`: register, list and remove subscribers and read deliveries — of its own role only;
 * - `sources`: pause and resume sources;
 * - `review`: resolve and resync diff reports;
 * - `webhook`: post to inbound webhook sources of its own role.
 * The admin token (`http.token`) may do everything.
 */
export const PERMISSIONS = ['subscribers', 'sources', 'review', 'webhook'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface Principal {
  name: string;
  admin: boolean;
  /** Scoped tokens with a role see and register only subscribers (and webhook sources) of that role. */
  role?: string;
  allow: ReadonlySet<Permission>;
}

export type Authentication = { principal: Principal } | { refusal: string } | { anonymous: true };

/**
 * Resolves an `Authorization` header to who is calling. Tokens are compared through
 * fixed-length digests with timingSafeEqual, so the time taken says nothing about how much
 * of a token matched; every configured token is compared, so neither does which one.
 */
export function authenticator(http: { token?: string | undefined; tokens?: readonly ScopedToken[] }): (header: string | undefined) => Authentication {
  const entries: Array<{ digest: Buffer; principal: Principal }> = [];
  if (http.token !== undefined) {
    entries.push({ digest: digest(http.token), principal: { name: 'admin', admin: true, allow: new Set(PERMISSIONS) } });
  }
  for (const scoped of http.tokens ?? []) {
    entries.push({
      digest: digest(scoped.token),
      principal: { name: scoped.name, admin: false, ...(scoped.role !== undefined ? { role: scoped.role } : {}), allow: new Set(scoped.allow) },
    });
  }
  return (header) => {
    if (header === undefined || header === '') return { anonymous: true };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return { refusal: 'malformed Authorization header: expected "Bearer <token>"' };
    const presented = digest(match[1]!);
    let found: Principal | undefined;
    for (const entry of entries) if (timingSafeEqual(presented, entry.digest)) found = entry.principal;
    return found ? { principal: found } : { refusal: 'wrong bearer token' };
  };
}

/** Why `principal` may not do `permission`, or undefined when it may. */
export function forbidden(principal: Principal, permission: Permission | 'admin'): string | undefined {
  if (principal.admin) return undefined;
  if (permission === 'admin') return `token "${principal.name}" is scoped; this call needs the admin token (http.token)`;
  return principal.allow.has(permission) ? undefined : `token "${principal.name}" may not use ${permission} (it allows: ${[...principal.allow].join(', ') || 'nothing'})`;
}

/** Whether a scoped principal may see or touch something that carries `role` (admin: everything). */
export function roleAllows(principal: Principal | undefined, role: string | undefined): boolean {
  if (principal === undefined || principal.admin || principal.role === undefined) return true;
  return principal.role === role;
}

/** The single-token check (kept for callers that only know the admin token). */
export function bearerCheck(token: string | undefined): (header: string | undefined) => string | undefined {
  const authenticate = authenticator({ token });
  return (header) => {
    if (token === undefined) return 'mutating calls are disabled: set http.token in the config';
    const result = authenticate(header);
    if ('anonymous' in result) return 'missing bearer token (Authorization: Bearer <http.token>)';
    return 'refusal' in result ? result.refusal : undefined;
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
