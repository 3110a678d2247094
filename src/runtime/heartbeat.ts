import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../log.ts';

/**
 * Heartbeats go to core NATS, outside the stream (DESIGN.md "Envelope": "periodic heartbeats
 * go to core NATS subjects outside the stream, so an idle stream stays still"). The subject
 * starts with `_HMS.`, which no `<subjectPrefix>.>` stream captures.
 */
export function heartbeatSubject(subjectPrefix: string, source: string): string {
  return `_HMS.heartbeat.${subjectPrefix}.${source}`;
}

export interface HeartbeatBody {
  source: string;
  /** This process's view: online, offline, lagging, starting, or standby (another process holds the lease). */
  state: string;
  method: 'log' | 'poll' | null;
  /** The last acknowledged position, or null before the first. */
  position: string | null;
  host: string;
  pid: number;
  ts: string;
}

/**
 * Publishes each source's heartbeat every `intervalMs` until the signal aborts. A core
 * publish never waits for the server: while NATS is away the beats are simply not seen,
 * which is what a watcher should notice.
 */
export function startHeartbeats(
  nc: NatsConnection,
  options: { subjectPrefix: string; intervalMs: number; log: Logger; signal: AbortSignal; beats: () => Array<Omit<HeartbeatBody, 'host' | 'pid' | 'ts'>> },
): void {
  const host = hostname();
  const beat = (): void => {
    const ts = new Date().toISOString();
    for (const body of options.beats()) {
      try {
        nc.publish(heartbeatSubject(options.subjectPrefix, body.source), JSON.stringify({ ...body, host, pid: process.pid, ts } satisfies HeartbeatBody));
      } catch (error) {
        // A closed connection: the bridge is stopping.
        options.log.debug({ err: String(error) }, 'heartbeat not published');
      }
    }
  };
  const timer = setInterval(beat, options.intervalMs);
  timer.unref();
  beat();
  options.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
