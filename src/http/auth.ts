import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks an `Authorization` header against the configured token; returns why it is refused,
 * or undefined when it passes. Compared through fixed-length digests so the time taken
 * says nothing about how much of the token matched.
 */
export function bearerCheck(token: string | undefined): (header: string | undefined) => string | undefined {
  const expected = token === undefined ? undefined : digest(token);
  return (header) => {
    if (expected === undefined) return 'mutating calls are disabled: set http.token in the config';
    if (header === undefined || header === '') return 'missing bearer token (Authorization: Bearer <http.token>)';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return 'malformed Authorization header: expected "Bearer <token>"';
    return timingSafeEqual(digest(match[1]!), expected) ? undefined : 'wrong bearer token';
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
