/**
 * `${VAR}` in config values, from the environment. `$${` is a literal `${`. Every value
 * substituted is registered as a secret, so it never reaches a log line.
 */
import { registerSecret } from '../util/secrets.ts';
import type { KeyPath } from '../util/yaml-source.ts';

const OPEN = '\uE001';
const CLOSE = '\uE002';
const REFERENCE = /\$\{([^{}\n]*)\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `${VAR}` is not valid inside a YAML flow mapping (`{ token: ${TOKEN} }`: braces are flow
 * indicators), yet that is how people write it. Before parsing, the braces of references
 * become private-use characters of the same length (positions stay exact); `restoreBraces`
 * puts them back in every parsed string.
 */
export function protectReferences(text: string): string {
  if (text.includes(OPEN) || text.includes(CLOSE)) return text;
  return text.replace(REFERENCE, (_m, inner: string) => `$${OPEN}${inner}${CLOSE}`);
}

export function restoreBraces(text: string): string {
  return text.includes(OPEN) || text.includes(CLOSE) ? text.replaceAll(OPEN, '{').replaceAll(CLOSE, '}') : text;
}

export interface InterpolationProblem {
  path: KeyPath;
  message: string;
}

type Env = Record<string, string | undefined>;

function interpolateString(text: string, env: Env): { value: string; problem?: string } {
  if (!text.includes('$')) return { value: text };
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    if (text.startsWith('$${', dollar)) {
      out += '${';
      i = dollar + 3;
      continue;
    }
    if (text[dollar + 1] !== '{') {
      out += '$';
      i = dollar + 1;
      continue;
    }
    const end = text.indexOf('}', dollar + 2);
    if (end < 0) return { value: text, problem: 'unterminated ${ (write $${ for a literal ${)' };
    const name = text.slice(dollar + 2, end);
    if (!VARIABLE_NAME.test(name)) {
      return { value: text, problem: `invalid variable reference \${${name}} (expected \${NAME}, NAME of letters, digits and _)` };
    }
    const value = env[name];
    if (value === undefined) return { value: text, problem: `environment variable ${name} is not set` };
    registerSecret(value);
    out += value;
    i = end + 1;
  }
  return { value: out };
}

/** A copy of `data` (plain YAML data) with braces restored and variables substituted. */
export function interpolateEnv(data: unknown, env: Env): { value: unknown; problems: InterpolationProblem[] } {
  const problems: InterpolationProblem[] = [];
  const visit = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') {
      const { value, problem } = interpolateString(restoreBraces(node), env);
      if (problem !== undefined) problems.push({ path, message: problem });
      return value;
    }
    if (Array.isArray(node)) return node.map((item, index) => visit(item, [...path, index]));
    if (node !== null && typeof node === 'object' && !(node instanceof Uint8Array)) {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(node)) {
        Object.defineProperty(out, restoreBraces(key), {
          value: visit(value, [...path, key]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return node;
  };
  return { value: visit(data, []), problems };
}
