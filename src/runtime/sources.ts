import { MysqlSource, diagnoseMysql } from '../../capture/mysql/index.ts';
import { loadDrivers, mssqlModules, oracleModules } from './drivers.ts';
import { PostgresSource } from '../../capture/postgres/index.ts';
import { diagnosePostgres } from '../../capture/postgres/doctor.ts';
import { connectClient } from '../../capture/postgres/connection.ts';
import { connectMysql, describeServer as describeMysql } from '../../capture/mysql/connection.ts';
import { createPollSource, KvResyncQueue, PollStateStore } from '../../capture/poll/index.ts';
import { recordBinlogStart } from '../../capture/mysql/index.ts';
import { loadTables } from '../../capture/postgres/catalog.ts';
import { describeServer as describePostgres } from '../../capture/postgres/connection.ts';
import { stateKey as postgresStateKey, type PostgresState } from '../../capture/postgres/index.ts';
import { createSlotAtNow, ensurePublication } from '../../capture/postgres/setup.ts';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.ts';
import { loadMethodRecord, methodKey, nextEpoch, type MethodRecord } from './position-space.ts';
import type { SourceConfig } from '../config/index.ts';
import { HmsSyncError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Mapping } from '../mapping/types.ts';
import type { CaptureObserver } from '../metrics/observer.ts';
import type { CaptureSource, OffsetStore } from '../ports.ts';

/** What every capture module is given. */
export interface CaptureContext {
  source: SourceConfig;
  mappings: Mapping[];
  offsets: OffsetStore;
  log: Logger;
  /** Call once per attempt when setup succeeded, with each mapped table's key columns. */
  onReady: (keyColumns: Map<string, string[]>) => void;
  /** Snapshot progress and polling passes go here (src/metrics/observer.ts). */
  observer?: CaptureObserver;
}

export type CaptureMethod = 'log' | 'poll';

export interface MethodChoice {
  method: CaptureMethod;
  /** The server, as messages name it ("postgres 127.0.0.1:5432/legacy"). */
  where: string;
  /** Why, in a sentence: logged by `run` and printed by `doctor`. */
  reason: string;
  /** Whether the server and the account allow log capture now. */
  logPossible: boolean;
  /** What log capture checked (doctor prints it). */
  lines: string[];
  /** Statements a DBA can run to get log capture. */
  sql: string[];
}

/** Kinds with a log-capture module. */
export const CAPTURE_KINDS: ReadonlySet<string> = new Set(['postgres', 'mysql', 'sqlite', 'oracle', 'mssql']);
const LOG_KINDS: ReadonlySet<string> = new Set(['postgres', 'mysql', 'oracle', 'mssql']);

/**
 * `capture: auto` takes log capture when the server and the account allow it, polling
 * otherwise. A source that has been polled moves to log capture once it becomes possible:
 * the attempt that finds so performs the switch (switchToLog in bridge.ts, docs/polling.md
 * "Switching to log capture"), in a new position epoch (position-space.ts).
 */
export async function chooseCaptureMethod(source: SourceConfig, mappings: Mapping[], offsets?: OffsetStore): Promise<MethodChoice> {
  await loadDrivers(source.kind);
  if (source.capture === 'poll' || !LOG_KINDS.has(source.kind)) {
    return {
      method: 'poll',
      where: source.kind,
      reason: source.capture === 'poll' ? 'capture: poll in the config' : `${source.kind} has no log capture`,
      logPossible: false,
      lines: [],
      sql: [],
    };
  }
  // A source that cannot be reached (or refuses the password) is an attempt that fails with
  // the driver's own classified error, not a reason to poll.
  await probeConnection(source);
  const report =
    source.kind === 'mysql'
      ? await diagnoseMysql({ url: source.url, mappings })
      : source.kind === 'oracle'
        ? await oracleModules().capture.diagnoseOracle({ url: source.url, mappings })
        : source.kind === 'mssql'
          ? await mssqlModules().capture.diagnoseMssql({ url: source.url, mappings })
          : await diagnosePostgres({ url: source.url, publication: source.publication, slot: source.slot, mappings });
  // The probe connected, the checks could not (a restart, or a password changed in between):
  // the driver's own classified error, so a wrong password still waits as long as one should.
  if (report.connectError) throw report.connectError;
  // The server went away in the middle of the checks (a restart): no answer, so no reason to
  // poll. Taken for one, a restart under load would move the source to polling, which reads
  // every row again in a new epoch, and back to log capture at the next check.
  if (report.interrupted) {
    throw new HmsSyncError('SOURCE_UNREACHABLE', `${errorMessage(report.interrupted)} (while checking whether log capture is possible)`, {
      cause: report.interrupted,
      retryable: true,
    });
  }
  const failed = report.lines.filter((l) => l.startsWith('FAIL')).map((l) => l.slice(5));
  const logPossible = report.method === 'log';
  if (source.capture === 'log') {
    const reason = logPossible ? 'capture: log in the config' : `capture: log in the config, but: ${failed.join('; ')}`;
    return { method: 'log', where: report.where, reason, logPossible, lines: report.lines, sql: report.sql };
  }
  if (logPossible) {
    return { method: 'log', where: report.where, reason: 'the server and the account allow log capture', logPossible, lines: report.lines, sql: report.sql };
  }
  return { method: 'poll', where: report.where, reason: `log capture is not possible: ${failed.join('; ')}`, logPossible, lines: report.lines, sql: report.sql };
}

/** The capture module for a source and method (one adapter per technology behind one port). */
export function createCaptureSource(ctx: CaptureContext, method: CaptureMethod): CaptureSource<any> {
  const { source } = ctx;
  if (method === 'poll') return createPollSource(ctx);
  // What every log-capture module takes (src/ports.ts LogSourceOptions).
  const options = {
    name: source.name,
    url: source.url,
    snapshot: source.snapshot,
    chunkSize: source.poll.chunkSize,
    mappings: ctx.mappings,
    offsets: ctx.offsets,
    log: ctx.log,
    onReady: ctx.onReady,
    ...(ctx.observer !== undefined ? { observer: ctx.observer } : {}),
  };
  switch (source.kind) {
    case 'postgres':
      return new PostgresSource({ ...options, slot: source.slot, publication: source.publication });
    case 'mysql':
      return new MysqlSource(options);
    case 'oracle':
      return new (oracleModules().capture.OracleSource)(options);
    case 'mssql':
      return new (mssqlModules().capture.MssqlSource)(options);
    default:
      throw new HmsSyncError('CONFIG', `source ${source.name}: kind ${source.kind} has no log capture module; use capture: poll`);
  }
}

async function probeConnection(source: SourceConfig): Promise<void> {
  if (source.kind === 'postgres') {
    const client = await connectClient(source.url);
    await client.end().catch(() => undefined);
  } else if (source.kind === 'mysql') {
    const connection = await connectMysql(source.url, describeMysql(source.url));
    await connection.end().catch(() => undefined);
  } else if (source.kind === 'oracle') {
    const { connectOracle, describeServer } = oracleModules().capture;
    const connection = await connectOracle(source.url, describeServer(source.url));
    await connection.close().catch(() => undefined);
  } else if (source.kind === 'mssql') {
    const { connectMssql, describeServer } = mssqlModules().capture;
    const pool = await connectMssql(source.url, describeServer(source.url));
    await pool.close().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Changes of capture method (docs/polling.md "Switching to log capture")

/** What an attempt does about the source's position epoch. */
export type EpochPlan = { action: 'run'; record: MethodRecord } | { action: 'switch-to-log'; record: MethodRecord };

/**
 * The source's method record against the method chosen now. Same method: run in its epoch.
 * Polled until now and log capture chosen: the switch (switchToLog). Log capture until now and
 * polling chosen: a new poll epoch at once, the poll state of any earlier poll epoch forgotten
 * (its hashes no longer say what the stream holds), so every row goes out again as `r`.
 */
export async function planEpoch(
  ctx: Pick<CaptureContext, 'source' | 'mappings' | 'offsets' | 'log'>,
  choice: MethodChoice,
  discardHeldChanges: () => Promise<void> = async () => undefined,
): Promise<EpochPlan> {
  const { source, offsets, log } = ctx;
  const record = await loadMethodRecord(offsets, source.name, choice.method);
  if (record.method === choice.method) return { action: 'run', record };
  if (choice.method === 'log') return { action: 'switch-to-log', record };
  await new PollStateStore(offsets, source.name).forget(ctx.mappings.map((m) => m.table));
  // Held changes of paused tables (docs/pause-resume.md) carry positions of this log epoch; a
  // later log epoch would replay them under its own prefix, after (and over) newer rows. Gone
  // before the new epoch is recorded, so a crash in between repeats this.
  await discardHeldChanges();
  await dropOldSlot(ctx);
  const next = nextEpoch(record, 'poll', choice.reason);
  await offsets.put(methodKey(source.name), next);
  log.warn(
    { event: 'capture_method', from: record.method, to: 'poll', epoch: next.epoch },
    `source ${source.name}: capture method log -> poll, position epoch ${next.epoch} (${choice.reason}); every row is sent again as r; ` +
      `rows deleted while neither method ran are found by reconciliation`,
  );
  return { action: 'run', record: next };
}

/**
 * Switch step (a): makes log capture's start point durable before the last poll pass, so the
 * log holds every change from a moment before that pass on. PostgreSQL: the publication, and a
 * new slot (no snapshot; its consistent point is where streaming starts). MySQL / MariaDB: the
 * binlog point of a consistent snapshot, stored as the binlog source's resume point.
 */
export async function prepareLogStart(ctx: Pick<CaptureContext, 'source' | 'mappings' | 'offsets' | 'log'>): Promise<string> {
  const { source, offsets, log } = ctx;
  if (source.kind === 'mysql') {
    const point = await recordBinlogStart({ url: source.url, sourceName: source.name, offsets, log });
    return `${point.file}:${point.pos}`;
  }
  if (source.kind !== 'postgres') throw new HmsSyncError('CONFIG', `source ${source.name}: kind ${source.kind} has no log capture module`);
  const where = describePostgres(source.url);
  const client = await connectClient(source.url);
  try {
    const user = (await client.query<{ usr: string }>('SELECT current_user AS usr')).rows[0]!.usr;
    const tables = await loadTables(client, ctx.mappings, where);
    await ensurePublication(client, source.publication, [...tables.values()], where, log);
    const lsn = await createSlotAtNow(client, source.slot, where, user, log);
    const now = new Date().toISOString();
    const state: PostgresState = { slot: source.slot, snapshot: { status: 'done', point: lsn, startedAt: now, tables: {} }, updatedAt: now };
    await offsets.put(postgresStateKey(source.name), state);
    log.info({ slot: source.slot, lsn }, `created replication slot ${source.slot} at ${lsn}: log capture will start there`);
    return lsn;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Switch step (c): the new epoch, log capture. */
export async function commitSwitchToLog(ctx: Pick<CaptureContext, 'source' | 'offsets' | 'log'>, record: MethodRecord, start: string): Promise<MethodRecord> {
  const next = nextEpoch(record, 'log', `log capture became possible; it starts at ${start}`);
  await ctx.offsets.put(methodKey(ctx.source.name), next);
  ctx.log.info(
    { event: 'capture_method', from: record.method, to: 'log', epoch: next.epoch, start },
    `source ${ctx.source.name}: capture method poll -> log, position epoch ${next.epoch}, log capture from ${start}`,
  );
  return next;
}

/**
 * While a source polls under `capture: auto`: checks every `poll.recheck` whether log capture
 * became possible (the same checks as at the start of an attempt) and calls `onPossible` once
 * when it did. A check that fails (server away for a moment) is logged and tried again later.
 */
export async function watchForLogCapture(
  source: SourceConfig,
  mappings: Mapping[],
  log: Logger,
  signal: AbortSignal,
  onPossible: (choice: MethodChoice) => void,
): Promise<void> {
  if (source.capture !== 'auto' || !LOG_KINDS.has(source.kind)) return;
  const every = source.poll.recheckMs ?? 300_000;
  while (!signal.aborted) {
    await sleep(every, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return;
    try {
      const choice = await chooseCaptureMethod(source, mappings);
      if (choice.method === 'log') {
        log.info({ event: 'capture_method_possible' }, `source ${source.name}: log capture is possible now; ending the polling attempt to switch`);
        onPossible(choice);
        return;
      }
      log.debug({ reason: choice.reason }, 'log capture still not possible');
    } catch (error) {
      log.warn({ error: errorMessage(error) }, `source ${source.name}: cannot check whether log capture is possible: ${errorMessage(error)}`);
    }
  }
}

/** Re-emit requests of a polled source (review resync, snapshot), from the offsets bucket. */
export async function pollRequestQueue(nc: NatsConnection, bucket: string, sourceName: string): Promise<KvResyncQueue> {
  return new KvResyncQueue(await new Kvm(nc).open(bucket), sourceName);
}

/**
 * Back to polling: the slot of the log period would keep WAL on the server forever. Dropped
 * where the account still may; otherwise a DBA is told how.
 */
async function dropOldSlot(ctx: Pick<CaptureContext, 'source' | 'log'>): Promise<void> {
  const { source, log } = ctx;
  if (source.kind !== 'postgres') return;
  let client: Awaited<ReturnType<typeof connectClient>> | undefined;
  try {
    client = await connectClient(source.url);
    const { rows } = await client.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [source.slot]);
    if (rows.length === 0) return;
    await client.query('SELECT pg_drop_replication_slot($1)', [source.slot]);
    log.info({ slot: source.slot }, `dropped replication slot ${source.slot}: the source is polled now`);
  } catch (error) {
    log.warn(
      { slot: source.slot, error: errorMessage(error) },
      `replication slot ${source.slot} keeps WAL on the server but is not used while the source is polled; a DBA can run: ` +
        `SELECT pg_drop_replication_slot(${quoteLiteralText(source.slot)});`,
    );
  } finally {
    await client?.end().catch(() => undefined);
  }
}

function quoteLiteralText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

