/**
 * Proleptic Gregorian calendar arithmetic on plain integers. Timestamps are converted with
 * these instead of `Date`, so neither the machine's time zone nor a float's precision can
 * touch a value (microseconds and nanoseconds are carried as digits, never as numbers).
 */

export const MIN_YEAR = 1;
export const MAX_YEAR = 9999;

/** A wall-clock reading with no zone: what a legacy column stores. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction-of-second digits as written ('' when none), at most 9. */
  fraction: string;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
}

export function isValidDate(year: number, month: number, day: number): boolean {
  return (
    year >= MIN_YEAR && year <= MAX_YEAR && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)
  );
}

export function isValidWallTime(t: WallTime): boolean {
  return (
    isValidDate(t.year, t.month, t.day) &&
    t.hour >= 0 &&
    t.hour <= 23 &&
    t.minute >= 0 &&
    t.minute <= 59 &&
    t.second >= 0 &&
    t.second <= 59 &&
    t.fraction.length <= 9
  );
}

/** Days since 1970-01-01 (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Seconds since the epoch of a wall time read as if it were UTC. */
export function wallSeconds(t: WallTime): number {
  return daysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

export function formatDate(year: number, month: number, day: number): string {
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/**
 * `YYYY-MM-DDTHH:MM:SS.sssZ`; 6 fraction digits when there are non-zero microseconds and 9
 * when there are non-zero nanoseconds, so nothing the source stored is cut or rounded.
 * Returns undefined when the instant falls outside years 0001-9999.
 */
export function formatUtc(epochSeconds: number, fraction: string): string | undefined {
  const days = Math.floor(epochSeconds / 86400);
  const secondOfDay = epochSeconds - days * 86400;
  const { year, month, day } = civilFromDays(days);
  if (year < MIN_YEAR || year > MAX_YEAR) return undefined;
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay % 3600) / 60);
  const second = secondOfDay % 60;
  const digits = fraction.padEnd(9, '0');
  const shown = digits.slice(6) !== '000' ? digits : digits.slice(3, 6) !== '000' ? digits.slice(0, 6) : digits.slice(0, 3);
  return `${formatDate(year, month, day)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}.${shown}Z`;
}

/** The UTC calendar date of an instant, `YYYY-MM-DD`. */
export function formatUtcDate(epochSeconds: number): string | undefined {
  const { year, month, day } = civilFromDays(Math.floor(epochSeconds / 86400));
  if (year < MIN_YEAR || year > MAX_YEAR) return undefined;
  return formatDate(year, month, day);
}
