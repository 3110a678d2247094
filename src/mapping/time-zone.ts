/**
 * UTC offsets of an IANA zone, from the runtime's tz database (Intl), for reading zone-less
 * legacy timestamps. Only `Intl` is asked, with explicit instants: the machine's own zone
 * (process.env.TZ) never enters.
 */
import { daysFromCivil } from './civil-time.ts';

export function isValidTimeZone(zone: string): boolean {
  if (zone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Etc/GMT', 'GMT', 'Etc/Zulu', 'Zulu', 'Etc/Universal', 'Universal']);

/** Cached hours per zone before the cache is dropped (bounds memory on random-date tables). */
const MAX_CACHED_HOURS = 200_000;

export class ZoneOffsets {
  readonly zone: string;
  private readonly fixedUtc: boolean;
  private readonly format: Intl.DateTimeFormat | undefined;
  /** UTC hour index -> offset (seconds) valid for that whole hour. */
  private readonly hourCache = new Map<number, number>();

  constructor(zone: string) {
    this.zone = zone;
    this.fixedUtc = UTC_NAMES.has(zone);
    this.format = this.fixedUtc
      ? undefined
      : new Intl.DateTimeFormat('en-US', {
          timeZone: zone,
          hourCycle: 'h23',
          era: 'short',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        });
  }

  /** Offset (seconds east of UTC) in force at a UTC instant. */
  offsetAt(epochSeconds: number): number {
    if (this.fixedUtc) return 0;
    const hour = Math.floor(epochSeconds / 3600);
    const cached = this.hourCache.get(hour);
    if (cached !== undefined) return cached;
    const atStart = this.computeOffset(hour * 3600);
    const atEnd = this.computeOffset(hour * 3600 + 3599);
    // Only an hour without a transition inside can be cached as a whole.
    if (atStart !== atEnd) return this.computeOffset(epochSeconds);
    if (this.hourCache.size >= MAX_CACHED_HOURS) this.hourCache.clear();
    this.hourCache.set(hour, atStart);
    return atStart;
  }

  /**
   * The UTC instant of a wall time in this zone (`localSeconds` = the wall time read as if
   * it were UTC). Where the wall time is ambiguous (clocks set back: it happens twice) or
   * does not exist (clocks set forward: a gap), the offset in force BEFORE the transition
   * is used: the earlier of the two instants for an overlap, and for a gap the instant that
   * reads as the wall time shifted forward by the gap (02:30 in a 02:00->03:00 gap becomes
   * 03:30). This is what java.time and Temporal's "compatible" disambiguation do.
   */
  wallToUtc(localSeconds: number): number {
    if (this.fixedUtc) return localSeconds;
    const before = this.offsetAt(localSeconds - 86400);
    const candidate = localSeconds - before;
    if (this.offsetAt(candidate) === before) return candidate;
    const after = this.offsetAt(localSeconds + 86400);
    const later = localSeconds - after;
    if (this.offsetAt(later) === after) return later;
    return candidate;
  }

  private computeOffset(epochSeconds: number): number {
    const parts = this.format!.formatToParts(new Date(epochSeconds * 1000));
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let bc = false;
    for (const part of parts) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value);
          break;
        case 'minute':
          minute = Number(part.value);
          break;
        case 'second':
          second = Number(part.value);
          break;
        case 'era':
          bc = part.value.startsWith('B');
          break;
      }
    }
    if (bc) year = 1 - year;
    const wall = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    return wall - epochSeconds;
  }
}

const zones = new Map<string, ZoneOffsets>();

export function zoneOffsets(zone: string): ZoneOffsets {
  let offsets = zones.get(zone);
  if (offsets === undefined) {
    offsets = new ZoneOffsets(zone);
    zones.set(zone, offsets);
  }
  return offsets;
}
