/** Durations in the config: "250ms", "5s", "2m", "1h", "1h30m", "1d" -> milliseconds. */

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;

export const DURATION_HINT = 'a duration such as 250ms, 5s, 2m, 1h or 1h30m';

/** Milliseconds, or undefined when `text` is not a duration (a bare number has no unit: undefined). */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (m === null || m.slice(1).every((part) => part === undefined)) return undefined;
  const [days, hours, minutes, seconds, millis] = m.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  const ms = ((((days! * 24 + hours!) * 60 + minutes!) * 60 + seconds!) * 1000) + millis!;
  return Number.isSafeInteger(ms) ? ms : undefined;
}
