/**
 * Secret strings (passwords, tokens, any value that came from a `${VAR}`) that must never
 * reach a log line, an error message or the HTTP API. Everything that prints text a user or
 * a remote system can see passes it through `redactSecrets`.
 */

export const REDACTED = '***';

/**
 * Values shorter than this are not redacted: replacing "1" or "on" in every log line would
 * make logs unreadable and protects nothing (such a value is not a secret worth the name).
 */
const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();
let pattern: RegExp | null = null;

export function registerSecret(value: string | undefined | null): void {
  if (value === undefined || value === null || value.length < MIN_SECRET_LENGTH) return;
  if (secrets.has(value)) return;
  secrets.add(value);
  // URL-encoded form too: a password with '@' or '/' appears encoded inside connection URLs.
  const encoded = encodeURIComponent(value);
  if (encoded !== value) secrets.add(encoded);
  pattern = null;
}

/** For tests: forget every registered secret. */
export function clearSecrets(): void {
  secrets.clear();
  pattern = null;
}

export function isSecret(value: string): boolean {
  return secrets.has(value);
}

function secretPattern(): RegExp | null {
  if (pattern === null && secrets.size > 0) {
    // Longest first, so a secret that contains another is replaced whole.
    const alternatives = [...secrets]
      .sort((a, b) => b.length - a.length)
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    pattern = new RegExp(alternatives.join('|'), 'g');
  }
  return pattern;
}

// scheme://user:password@ : the password may hold '/' or ':' (unencoded) but not '@' or spaces.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@]*)@/gi;
// ?password=... / &token=... in connection strings
const QUERY_SECRET = /([?&;](?:password|passwd|pwd|pass|token|secret|access_token)=)([^&;\s]*)/gi;

/** Replaces registered secrets and URL / query-string passwords in free text. */
export function redactSecrets(text: string): string {
  let out = text;
  const re = secretPattern();
  if (re !== null) out = out.replace(re, REDACTED);
  return out
    .replace(URL_PASSWORD, (_m, head: string, password: string) => (password === '' ? `${head}@` : `${head}${REDACTED}@`))
    .replace(QUERY_SECRET, (_m, head: string) => `${head}${REDACTED}`);
}

/**
 * A URL fit for a log line or an error: its password (and password-like query parameters)
 * hidden, everything else exactly as written.
 */
export function redactUrl(url: string): string {
  return redactSecrets(url);
}
