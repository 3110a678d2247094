/**
 * Legacy date/timestamp formats (`format:` in a mapping), e.g. "yyyyMMdd", "MM/dd/yyyy",
 * "yyyyMMddHHmmss", "yyyy-MM-dd'T'HH:mm:ss.SSS". Compiled once per mapping to one regex.
 *
 * Tokens: yyyy, MM / M, dd / d, HH / H, mm / m, ss / s, S..S (that many fraction digits,
 * up to 9). Any other letter must be quoted ('T'); '' is a quote; everything else is literal.
 */
import { isValidWallTime, type WallTime } from './civil-time.ts';

type Part = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'fraction';

const TOKENS: Record<string, { part: Part; pattern: string }> = {
  yyyy: { part: 'year', pattern: '(\\d{4})' },
  MM: { part: 'month', pattern: '(\\d{2})' },
  M: { part: 'month', pattern: '(\\d{1,2})' },
  dd: { part: 'day', pattern: '(\\d{2})' },
  d: { part: 'day', pattern: '(\\d{1,2})' },
  HH: { part: 'hour', pattern: '(\\d{2})' },
  H: { part: 'hour', pattern: '(\\d{1,2})' },
  mm: { part: 'minute', pattern: '(\\d{2})' },
  m: { part: 'minute', pattern: '(\\d{1,2})' },
  ss: { part: 'second', pattern: '(\\d{2})' },
  s: { part: 'second', pattern: '(\\d{1,2})' },
};

export class FormatError extends Error {}

export interface LegacyFormat {
  readonly format: string;
  /** True when the format reads a time of day. */
  readonly hasTime: boolean;
  /** The wall time written in `text`, or undefined if it does not match or is not a real date/time. */
  parse(text: string): WallTime | undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Throws FormatError with a message fit for a mapping-file error. */
export function compileLegacyFormat(format: string): LegacyFormat {
  const parts: Part[] = [];
  let source = '^';
  let i = 0;
  while (i < format.length) {
    const ch = format[i]!;
    if (ch === "'") {
      if (format[i + 1] === "'") {
        source += "'";
        i += 2;
        continue;
      }
      const end = format.indexOf("'", i + 1);
      if (end < 0) throw new FormatError(`unterminated quote in format "${format}"`);
      source += escapeRegExp(format.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    if (!/[A-Za-z]/.test(ch)) {
      source += escapeRegExp(ch);
      i++;
      continue;
    }
    let run = 1;
    while (format[i + run] === ch) run++;
    const token = format.slice(i, i + run);
    let part: Part;
    let pattern: string;
    if (ch === 'S') {
      if (run > 9) throw new FormatError(`"${token}": at most 9 fraction digits (S)`);
      part = 'fraction';
      pattern = `(\\d{${run}})`;
    } else if (token === 'yy' || token === 'y') {
      throw new FormatError(`"${token}": two-digit years are ambiguous, use yyyy`);
    } else {
      const known = TOKENS[token];
      if (known === undefined) {
        throw new FormatError(
          `unknown token "${token}" in format "${format}" (known: yyyy, MM, M, dd, d, HH, H, mm, m, ss, s, SSS; quote literal letters: 'T')`,
        );
      }
      part = known.part;
      pattern = known.pattern;
    }
    if (parts.includes(part)) throw new FormatError(`"${token}": the ${part} appears twice in format "${format}"`);
    parts.push(part);
    source += pattern;
    i += run;
  }
  for (const required of ['year', 'month', 'day'] as const) {
    if (!parts.includes(required)) throw new FormatError(`format "${format}" has no ${required} (needs yyyy, MM and dd)`);
  }
  const regex = new RegExp(`${source}$`);
  const hasTime = parts.includes('hour');
  return {
    format,
    hasTime,
    parse(text: string): WallTime | undefined {
      const m = regex.exec(text);
      if (m === null) return undefined;
      const wall: WallTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, fraction: '' };
      for (let p = 0; p < parts.length; p++) {
        const value = m[p + 1]!;
        const part = parts[p]!;
        if (part === 'fraction') wall.fraction = value;
        else wall[part] = Number(value);
      }
      return isValidWallTime(wall) ? wall : undefined;
    },
  };
}
