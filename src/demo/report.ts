// What the demo prints: pure formatting of envelopes, legacy rows, counts and latencies.
import type { OpCounts } from './arrivals.ts';
import type { LatencyHistogram } from './latency.ts';

const WIDTH = 96;

function inlineJson(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[${value.map(inlineJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${inlineJson(v)}`).join(', ')} }`;
  }
  return JSON.stringify(value) ?? 'null';
}

function renderJson(value: unknown, indent: string, room: number): string {
  const flat = inlineJson(value);
  if (flat.length <= room || value === null || typeof value !== 'object') return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => inner + renderJson(v, inner, WIDTH - inner.length - 1)).join(',\n')}\n${indent}]`;
  }
  const lines = Object.entries(value).map(([k, v]) => {
    const label = `${JSON.stringify(k)}: `;
    return inner + label + renderJson(v, inner, WIDTH - inner.length - label.length - 1);
  });
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

/** Indented JSON that keeps short objects (a key, a source) on one line. Still valid JSON. */
export function prettyJson(value: unknown): string {
  return renderJson(value, '', 0);
}

/** `label  A='x' B=2 …`, wrapped under the label at the display width. */
export function wrapPairs(label: string, pairs: string[]): string[] {
  const pad = ' '.repeat(label.length);
  const lines: string[] = [];
  let line = label;
  for (const pair of pairs) {
    if (line.length > label.length && line.length + 1 + pair.length > WIDTH) {
      lines.push(line);
      line = pad;
    }
    line += (line.length > label.length ? ' ' : '') + pair;
  }
  lines.push(line);
  return lines;
}

export function formatMs(ms: number | undefined): string {
  return ms === undefined ? '-' : `${ms} ms`;
}

export function formatLatency(histogram: LatencyHistogram): string {
  if (histogram.count === 0) return 'latency -';
  return `latency p50 ${formatMs(histogram.percentile(50))} p99 ${formatMs(histogram.percentile(99))}`;
}

/** `bridge_inspection   r 40   c 7    u 10   d 3`, columns aligned across entities. */
export function formatEntityCounts(byEntity: ReadonlyMap<string, OpCounts>, indent: string): string[] {
  const nameWidth = Math.max(...[...byEntity.keys()].map((e) => e.length));
  const cell = (op: string, n: number): string => `${op} ${String(n).padEnd(4)}`;
  return [...byEntity].map(([entity, counts]) => {
    const cells = [cell('r', counts.r), cell('c', counts.c), cell('u', counts.u), cell('d', counts.d)];
    if (counts.t > 0) cells.push(cell('t', counts.t));
    return `${indent}${entity.padEnd(nameWidth)}  ${cells.join(' ')}`.trimEnd();
  });
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `[  4.0s]`: seconds since the changes started, fixed width so the ticks line up. */
export function elapsedLabel(ms: number): string {
  return `[${(ms / 1000).toFixed(1).padStart(6)}s]`;
}
