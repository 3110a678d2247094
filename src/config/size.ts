/**
 * Sizes in the config: "512MB", "1GB", "1.5GiB", "64kB", "100B" -> bytes.
 *
 * Units count in powers of 1024, as PostgreSQL's own memory and WAL settings do
 * (`max_slot_wal_keep_size = 1GB` is 1024^3 bytes), so a value copied between the two means
 * the same; the IEC spellings (KiB, MiB, GiB, TiB) are accepted as synonyms. Case does not
 * matter. A bare number has no unit and is an error, as for durations.
 */

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)$/i;
const FACTORS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

export const SIZE_HINT = 'a size such as 512MB, 1GB or 100B (units B, kB, MB, GB, TB: powers of 1024)';

/** Bytes, or undefined when `text` is not a size. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (m === null) return undefined;
  const factor = FACTORS[m[2]!.toLowerCase()[0]!]!;
  const bytes = Math.round(Number(m[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** "1.0 GiB", "512.0 MiB", "300 B": for log lines and the console. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
