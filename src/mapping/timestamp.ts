/**
 * Canonical date / timestamp text (what capture modules produce, see types.ts) to the
 * envelope's forms: `YYYY-MM-DD` and `YYYY-MM-DDTHH:MM:SS.sss[sss]Z`.
 */
import {
  formatUtc,
  formatUtcDate,
  isValidDate,
  isValidWallTime,
  wallSeconds,
  type WallTime,
} from './civil-time.ts';
import type { ZoneOffsets } from './time-zone.ts';

export interface ParsedTimestamp {
  wall: WallTime;
  /** Seconds east of UTC when the text carries an offset; undefined for a zone-less value. */
  offsetSeconds: number | undefined;
}

// 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS[.f]]', optionally followed by 'Z' or +HH[:MM[:SS]]
const TIMESTAMP_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?: ?(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?))?)?$/;
const OFFSET_TEXT = /^([+-])(\d{2}):?(\d{2})?:?(\d{2})?$/;

export function parseTimestampText(text: string): ParsedTimestamp | undefined {
  const m = TIMESTAMP_TEXT.exec(text);
  if (m === null) return undefined;
  const wall: WallTime = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: m[4] === undefined ? 0 : Number(m[4]),
    minute: m[5] === undefined ? 0 : Number(m[5]),
    second: m[6] === undefined ? 0 : Number(m[6]),
    fraction: m[7] ?? '',
  };
  if (!isValidWallTime(wall)) return undefined;
  const zone = m[8];
  if (zone === undefined) return { wall, offsetSeconds: undefined };
  if (zone === 'Z') return { wall, offsetSeconds: 0 };
  const o = OFFSET_TEXT.exec(zone);
  if (o === null) return undefined;
  const hours = Number(o[2]);
  const minutes = o[3] === undefined ? 0 : Number(o[3]);
  const seconds = o[4] === undefined ? 0 : Number(o[4]);
  if (hours > 15 || minutes > 59 || seconds > 59) return undefined;
  const magnitude = hours * 3600 + minutes * 60 + seconds;
  return { wall, offsetSeconds: o[1] === '-' ? -magnitude : magnitude };
}

/** Seconds since the epoch of a parsed value; a zone-less one is read as wall time in `zone`. */
export function toEpochSeconds(parsed: ParsedTimestamp, zone: ZoneOffsets): number {
  const local = wallSeconds(parsed.wall);
  return parsed.offsetSeconds === undefined ? zone.wallToUtc(local) : local - parsed.offsetSeconds;
}

/** ISO 8601 UTC text, or undefined when the instant is outside years 0001-9999. */
export function toIsoUtc(parsed: ParsedTimestamp, zone: ZoneOffsets): string | undefined {
  return formatUtc(toEpochSeconds(parsed, zone), parsed.wall.fraction);
}

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A valid 'YYYY-MM-DD' as is, else undefined. */
export function checkDateText(text: string): string | undefined {
  const m = DATE_TEXT.exec(text);
  if (m === null) return undefined;
  return isValidDate(Number(m[1]), Number(m[2]), Number(m[3])) ? text : undefined;
}

/** The UTC date of a timestamp with offset. */
export function utcDateOf(parsed: ParsedTimestamp, zone: ZoneOffsets): string | undefined {
  return formatUtcDate(toEpochSeconds(parsed, zone));
}
