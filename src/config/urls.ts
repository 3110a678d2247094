/** Connection URLs in the config, checked per kind. Messages show URLs with passwords hidden. */
import path from 'node:path';
import { redactUrl } from '../util/secrets.ts';
import type { SourceKind } from './types.ts';

const SCHEMES: Record<Exclude<SourceKind, 'sqlite' | 'webhook'>, readonly string[]> = {
  postgres: ['postgres', 'postgresql'],
  mysql: ['mysql', 'mariadb'],
  oracle: ['oracle'],
  mssql: ['mssql', 'sqlserver'],
};

function schemesText(schemes: readonly string[]): string {
  return schemes.map((scheme) => `${scheme}://`).join(' or ');
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const ENCODING_HINT = 'characters such as @ # / ? in a password must be percent-encoded, e.g. @ as %40';

/** A problem with a database URL for `kind`, or undefined when it is fine. */
export function checkDatabaseUrl(kind: Exclude<SourceKind, 'sqlite' | 'webhook'>, url: string): string | undefined {
  const schemes = SCHEMES[kind];
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || !schemes.includes(scheme)) {
    return `kind ${kind} needs a URL starting with ${schemesText(schemes)} (got ${JSON.stringify(redactUrl(url))})`;
  }
  const parsed = parseUrl(url);
  if (parsed === undefined || parsed.hostname === '') {
    return `not a valid URL, or one without a host (got ${JSON.stringify(redactUrl(url))}; ${ENCODING_HINT})`;
  }
  return undefined;
}

/**
 * The database file of a sqlite source: `sqlite:./legacy.db`, `sqlite:///abs/legacy.db`,
 * `file:legacy.db` or a plain path; relative paths are taken from the config file's folder.
 */
export function sqlitePath(url: string, baseDir: string): string | undefined {
  let file = url;
  const scheme = /^(sqlite|file):(\/\/)?/i.exec(url);
  if (scheme !== null) file = url.slice(scheme[0].length);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  if (file === '') return undefined;
  if (file === ':memory:') return file;
  return path.resolve(baseDir, file);
}

const NATS_SCHEMES = ['nats', 'tls'];

export function checkNatsUrl(url: string): string | undefined {
  const parsed = parseUrl(url);
  if (parsed === undefined || !NATS_SCHEMES.includes(parsed.protocol.slice(0, -1)) || parsed.hostname === '') {
    return `expected a nats:// (or tls://) URL such as nats://127.0.0.1:4222 (got ${JSON.stringify(redactUrl(url))})`;
  }
  return undefined;
}

export function checkHttpUrl(url: string): string | undefined {
  const parsed = parseUrl(url);
  if (parsed === undefined || !['http:', 'https:'].includes(parsed.protocol) || parsed.hostname === '') {
    return `expected an http:// or https:// URL (got ${JSON.stringify(redactUrl(url))})`;
  }
  return undefined;
}
