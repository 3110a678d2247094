/**
 * The per-source capture lease (docs/high-availability.md). Two `hms-sync run` processes with
 * one config: the one holding a source's lease captures it, the other stands by and takes the
 * lease over once the holder stopped renewing it.
 *
 * The lease is a key in a KV bucket without TTL, changed only by compare-and-set on the
 * revision read: `create` takes a free lease, `update(key, value, revision)` renews or takes
 * over one, a conditional delete releases it. Of two standbys that read the same revision only
 * one update succeeds. Expiry is judged on each process's own monotonic clock, never by
 * comparing wall clocks across machines:
 *
 * - the holder counts from the moment it *sent* its last successful renewal, and stops
 *   capturing (aborts the attempt, refuses offset writes) `ttl - renew` after it;
 * - a standby counts from the moment it first *saw* that revision, which is later, and takes
 *   over only `ttl` after it.
 *
 * So the old holder has stopped by the time a standby may win, with `renew` of margin for clock
 * rate differences and a write already on the wire.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { LeaseConfig } from '../config/index.ts';
import { HmsSyncError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { OffsetStore } from '../ports.ts';

/** What the lease key holds (JSON); the times are informational, decisions use revisions. */
export interface LeaseValue {
  holder: string;
  host: string;
  pid: number;
  /** hostname, boot id and pid namespace: the same value means `pid` can be checked with kill(pid, 0). */
  machine?: string;
  acquiredAt: string;
  renewedAt: string;
  /** Wall-clock estimate of when a standby may take over. */
  expiresAt: string;
}

export function leaseBucketName(stream: string): string {
  return `${stream.toLowerCase()}_leases`;
}

export async function openLeaseBucket(nc: NatsConnection, bucket: string, replicas = 1): Promise<KV> {
  try {
    return await new Kvm(nc).create(bucket, { history: 1, replicas });
  } catch (error) {
    throw new HmsSyncError('NATS', `cannot open KV bucket ${bucket}: ${errorMessage(error)}`, { cause: error, retryable: true });
  }
}

export interface SourceLeaseOptions extends LeaseConfig {
  log: Logger;
  /** How often a standby reads the lease; default min(1 s, renew). */
  pollMs?: number;
  /** Called when this process starts standing by, with the holder it waits for. */
  onStandby?: (holder: LeaseValue) => void;
}

/** Monotonic milliseconds: immune to wall-clock steps. */
const now = (): number => performance.now();

let machineIdentity: string | undefined | null = null;
function thisMachine(): string | undefined {
  if (machineIdentity !== null) return machineIdentity;
  // Off: a standby on the same machine waits out the ttl as one elsewhere would (docs/high-availability.md).
  if (process.env.HMS_SYNC_LEASE_PID_CHECK === 'off') return (machineIdentity = undefined);
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pidNamespace = readlinkSync('/proc/self/ns/pid');
    machineIdentity = `${hostname()}/${boot}/${pidNamespace}`;
  } catch {
    machineIdentity = undefined;
  }
  return machineIdentity;
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function isRevisionConflict(error: unknown): boolean {
  const e = error as { code?: unknown; api_error?: { err_code?: number } };
  return e?.api_error?.err_code === 10071 || /wrong last sequence|key exists/i.test(errorMessage(error));
}

export class SourceLease {
  readonly key: string;
  readonly holderId: string;
  private revision: number | undefined;
  private acquiredAt = '';
  /** Monotonic time at which the last successful renewal was sent. */
  private renewedAt = 0;
  private lostController = new AbortController();
  private stopRenewing: AbortController | undefined;
  private renewing: Promise<void> | undefined;
  private fenceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kv: KV,
    readonly source: string,
    private readonly options: SourceLeaseOptions,
  ) {
    this.key = `source.${source}`;
    this.holderId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  }

  /** True while this process holds the lease and is inside its own deadline. */
  get held(): boolean {
    return this.revision !== undefined && !this.lostController.signal.aborted && now() < this.fenceAt();
  }

  /** Aborts when the lease held now is lost; a fresh signal after each acquire(). */
  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  /** Throws unless the lease is held: guards writes that only the holder may make. */
  assertHeld(what: string): void {
    if (!this.held) {
      throw new HmsSyncError('ABORTED', `source ${this.source}: not writing ${what}: this process no longer holds the capture lease`, {
        retryable: true,
      });
    }
  }

  private fenceAt(): number {
    return this.renewedAt + this.options.ttlMs - this.options.renewMs;
  }

  /**
   * Waits until this process holds the lease. Resolves true once held, false when the
   * signal aborted first. NATS errors while waiting are logged and retried.
   */
  async acquire(signal: AbortSignal): Promise<boolean> {
    const { log } = this.options;
    const pollMs = this.options.pollMs ?? Math.min(1000, this.options.renewMs);
    let seenRevision: number | undefined;
    let seenAt = 0;
    let standingBy = false;
    while (!signal.aborted) {
      try {
        const entry = await this.kv.get(this.key);
        const sentAt = now();
        if (!entry || entry.operation !== 'PUT') {
          const value = this.value(new Date().toISOString());
          const revision = await this.kv.create(this.key, JSON.stringify(value)).catch((error: unknown) => {
            if (isRevisionConflict(error)) return undefined;
            throw error;
          });
          if (revision !== undefined) return this.won(revision, sentAt, value, undefined);
        } else {
          const current = entry.json<LeaseValue>();
          if (entry.revision !== seenRevision) {
            seenRevision = entry.revision;
            seenAt = now();
          }
          const stale = now() - seenAt >= this.options.ttlMs;
          const dead = this.holderIsDeadHere(current);
          if (stale || dead) {
            const value = this.value(new Date().toISOString());
            const revision = await this.kv.update(this.key, JSON.stringify(value), entry.revision).catch((error: unknown) => {
              if (isRevisionConflict(error)) return undefined;
              throw error;
            });
            if (revision !== undefined) return this.won(revision, sentAt, value, { previous: current, why: dead ? 'holder process is gone' : 'holder stopped renewing' });
          } else if (!standingBy) {
            standingBy = true;
            log.info(
              { event: 'standby', lease: this.key, holder: current.holder, holderHost: current.host, holderPid: current.pid },
              `source ${this.source}: standing by, ${current.holder} holds the capture lease`,
            );
            this.options.onStandby?.(current);
          }
        }
      } catch (error) {
        log.warn({ lease: this.key, err: errorMessage(error) }, `source ${this.source}: cannot read the capture lease: ${errorMessage(error)}`);
      }
      await sleep(pollMs, undefined, { signal }).catch(() => undefined);
    }
    return false;
  }

  private holderIsDeadHere(current: LeaseValue): boolean {
    const machine = thisMachine();
    return machine !== undefined && current.machine === machine && current.pid !== process.pid && processGone(current.pid);
  }

  private value(acquiredAt: string): LeaseValue {
    const machine = thisMachine();
    const at = new Date();
    return {
      holder: this.holderId,
      host: hostname(),
      pid: process.pid,
      ...(machine !== undefined && { machine }),
      acquiredAt,
      renewedAt: at.toISOString(),
      expiresAt: new Date(at.getTime() + this.options.ttlMs).toISOString(),
    };
  }

  private won(revision: number, sentAt: number, value: LeaseValue, takeover: { previous: LeaseValue; why: string } | undefined): true {
    this.revision = revision;
    this.renewedAt = sentAt;
    this.acquiredAt = value.acquiredAt;
    this.lostController = new AbortController();
    this.options.log.info(
      {
        event: 'lease_won',
        lease: this.key,
        holder: this.holderId,
        revision,
        ...(takeover && { previousHolder: takeover.previous.holder, reason: takeover.why }),
      },
      `source ${this.source}: capture lease won${takeover ? ` (taken over from ${takeover.previous.holder}: ${takeover.why})` : ''}`,
    );
    this.armFence();
    this.stopRenewing = new AbortController();
    this.renewing = this.renewLoop(this.stopRenewing.signal);
    return true;
  }

  /** Loses the lease at the holder's own deadline unless a renewal moves it first. */
  private armFence(): void {
    clearTimeout(this.fenceTimer);
    const ms = Math.max(0, this.fenceAt() - now());
    this.fenceTimer = setTimeout(() => this.lose(`not renewed for ${this.options.ttlMs - this.options.renewMs} ms`), ms);
    this.fenceTimer.unref();
  }

  private async renewLoop(stop: AbortSignal): Promise<void> {
    while (!stop.aborted && !this.lostController.signal.aborted) {
      await sleep(this.options.renewMs, undefined, { signal: stop }).catch(() => undefined);
      if (stop.aborted || this.lostController.signal.aborted || this.revision === undefined) return;
      const sentAt = now();
      try {
        const revision = await this.kv.update(
          this.key,
          JSON.stringify(this.value(this.acquiredAt)),
          this.revision,
          Math.min(this.options.renewMs, 5_000),
        );
        if (stop.aborted || this.lostController.signal.aborted) return;
        this.revision = revision;
        this.renewedAt = sentAt;
        this.armFence();
      } catch (error) {
        if (isRevisionConflict(error)) {
          const holder = await this.kv.get(this.key).then((e) => (e?.operation === 'PUT' ? e.json<LeaseValue>().holder : 'nobody'), () => 'unknown');
          this.lose(`taken over by ${holder}`);
          return;
        }
        // Not fatal yet: the fence timer decides when too many renewals failed.
        this.options.log.warn({ lease: this.key, err: errorMessage(error) }, `source ${this.source}: cannot renew the capture lease: ${errorMessage(error)}`);
      }
    }
  }

  private lose(reason: string): void {
    if (this.revision === undefined || this.lostController.signal.aborted) return;
    clearTimeout(this.fenceTimer);
    this.stopRenewing?.abort();
    this.revision = undefined;
    this.options.log.warn({ event: 'lease_lost', lease: this.key, holder: this.holderId, reason }, `source ${this.source}: capture lease lost (${reason})`);
    this.lostController.abort(new HmsSyncError('ABORTED', `source ${this.source}: capture lease lost (${reason})`, { retryable: true }));
  }

  /** Stops renewing and deletes the lease if still ours, so a standby takes over at once. */
  async release(): Promise<void> {
    clearTimeout(this.fenceTimer);
    this.stopRenewing?.abort();
    await this.renewing?.catch(() => undefined);
    const revision = this.revision;
    this.revision = undefined;
    if (revision === undefined) return;
    try {
      await this.kv.delete(this.key, { previousSeq: revision });
      this.options.log.info({ event: 'lease_released', lease: this.key, holder: this.holderId }, `source ${this.source}: capture lease released`);
    } catch (error) {
      this.options.log.warn({ lease: this.key, err: errorMessage(error) }, `source ${this.source}: cannot release the capture lease: ${errorMessage(error)}`);
    }
  }
}

/**
 * The offset store as the lease holder may use it: reads pass, writes are refused once this
 * process is past its lease deadline, so an old holder (a GC pause, a partition) cannot move
 * a position after a standby took over.
 */
export function fencedOffsets(store: OffsetStore, lease: SourceLease): OffsetStore {
  return {
    get: (key) => store.get(key),
    put: async (key, value) => {
      lease.assertHeld(`offset ${key}`);
      await store.put(key, value);
    },
    delete: async (key) => {
      lease.assertHeld(`offset ${key}`);
      await store.delete(key);
    },
  };
}

/**
 * One attempt under the lease: waits for it first (standing by), then runs `run` with a signal
 * that aborts on shutdown or when the lease is lost. A lost lease ends the attempt quietly, so
 * the job goes back to waiting for it; the lease stays held across failed attempts (a standby
 * with the same config would fail the same way).
 */
export async function withLease(
  lease: SourceLease,
  signal: AbortSignal,
  onWon: () => void,
  run: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  if (!lease.held) {
    if (!(await lease.acquire(signal))) return;
    onWon();
  }
  const lost = lease.lost;
  try {
    await run(AbortSignal.any([signal, lost]));
  } catch (error) {
    if (lost.aborted && !signal.aborted) return;
    throw error;
  }
}
