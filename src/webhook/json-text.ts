/**
 * A JSON parser that keeps every number as the text it was written in (`JSON.parse` would
 * turn 12345678901234567890 and 0.10 into doubles and lose digits), so a vendor's decimal
 * reaches the mapping engine exactly. Objects keep their keys in order, "__proto__" included.
 */

/** A JSON number as written ("12.50", "-1e3"). */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export type LosslessValue = string | JsonNumber | boolean | null | LosslessValue[] | LosslessObject;
export type LosslessObject = { [key: string]: LosslessValue };

export class JsonTextError extends Error {}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const MAX_DEPTH = 256;

export function parseLosslessJson(text: string): LosslessValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new JsonTextError(`${what} at position ${i}`);
  };
  const space = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const string = (): string => {
    // From the opening quote to the closing one, then JSON.parse for the escapes (exact).
    const start = i;
    i++;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) i += 2;
      else if (c < 0x20) fail('control character in string');
      else i++;
    }
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('bad escape in string');
    }
  };
  const value = (depth: number): LosslessValue => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: LosslessObject = {};
      space();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail('expected a string key');
        const key = string();
        space();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        const v = value(depth + 1);
        if (Object.hasOwn(out, key)) fail(`duplicate key ${JSON.stringify(key)}`);
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return out;
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const out: LosslessValue[] = [];
      space();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value(depth + 1));
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return out;
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) return fail(i >= text.length ? 'unexpected end of input' : `unexpected character ${JSON.stringify(text[i])}`);
    i += m[0].length;
    return new JsonNumber(m[0]);
  };
  const result = value(0);
  space();
  if (i < text.length) fail('unexpected text after the JSON value');
  return result;
}

/** JSON text of a lossless value, numbers written as they came. */
export function stringifyLossless(value: LosslessValue): string {
  if (value instanceof JsonNumber) return value.text;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stringifyLossless).join(',')}]`;
  return `{${Object.keys(value)
    .map((k) => `${JSON.stringify(k)}:${stringifyLossless(value[k]!)}`)
    .join(',')}}`;
}

export function isLosslessObject(value: LosslessValue): value is LosslessObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof JsonNumber);
}
