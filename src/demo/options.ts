import { parseDuration } from '../config/index.ts';
import { HmsSyncError } from '../errors.ts';

export interface DemoOptions {
  /** Where the HTTP API and web console listen, on 127.0.0.1. */
  port: number;
  /** How long to make changes; undefined: until Ctrl-C. */
  durationMs: number | undefined;
  /** Row changes a second. */
  rate: number;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_RATE = 20;
const MAX_RATE = 2_000;

/** The command line's strings -> options; a bad value is a CONFIG error (exit 2) naming the flag. */
export function parseDemoOptions(raw: { port?: string; duration?: string; rate?: string }): DemoOptions {
  const port = raw.port === undefined ? DEFAULT_PORT : Number(raw.port);
  if (!/^\d+$/.test(raw.port ?? '0') || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new HmsSyncError('CONFIG', `--port ${raw.port}: expected a TCP port, 1 to 65535`);
  }
  let durationMs: number | undefined;
  if (raw.duration !== undefined) {
    durationMs = parseDuration(raw.duration);
    if (durationMs === undefined || durationMs <= 0) {
      throw new HmsSyncError('CONFIG', `--duration ${raw.duration}: expected a duration such as 30s, 2m or 1h30m`);
    }
  }
  const rate = raw.rate === undefined ? DEFAULT_RATE : Number(raw.rate);
  if (!Number.isFinite(rate) || rate <= 0 || rate > MAX_RATE) {
    throw new HmsSyncError('CONFIG', `--rate ${raw.rate}: expected changes a second, more than 0 and at most ${MAX_RATE}`);
  }
  return { port, durationMs, rate };
}
