import { MysqlSource, diagnoseMysql } from '../../capture/mysql/index.ts';
import { PostgresSource } from '../../capture/postgres/index.ts';
import { diagnosePostgres } from '../../capture/postgres/doctor.ts';
import { connectClient } from '../../capture/postgres/connection.ts';
import { connectMysql, describeServer as describeMysql } from '../../capture/mysql/connection.ts';
import { createPollSource } from '../../capture/poll/index.ts';
import type { SourceConfig } from '../config/index.ts';
import { HmsSyncError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Mapping } from '../mapping/types.ts';
import type { CaptureSource, OffsetStore } from '../ports.ts';

/** What every capture module is given. */
export interface CaptureContext {
  source: SourceConfig;
  mappings: Mapping[];
  offsets: OffsetStore;
  log: Logger;
  /** Call once per attempt when setup succeeded, with each mapped table's key columns. */
  onReady: (keyColumns: Map<string, string[]>) => void;
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
export const CAPTURE_KINDS: ReadonlySet<string> = new Set(['postgres', 'mysql', 'sqlite']);
const LOG_KINDS: ReadonlySet<string> = new Set(['postgres', 'mysql']);

/**
 * `capture: auto` takes log capture when the server and the account allow it, polling
 * otherwise. One exception: a source that has been polled stays polled even once log capture
 * becomes possible, because poll positions (time-based) sort after log positions (LSN,
 * binlog file) and a consumer doing last-write-wins by position would then ignore every log
 * envelope. Moving it to log capture is a deliberate step (docs/polling.md).
 */
export async function chooseCaptureMethod(source: SourceConfig, mappings: Mapping[], offsets?: OffsetStore): Promise<MethodChoice> {
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
      : await diagnosePostgres({ url: source.url, publication: source.publication, slot: source.slot, mappings });
  if (report.lines.some((l) => l.startsWith('FAIL connect'))) {
    throw new HmsSyncError('SOURCE_UNREACHABLE', `${report.where}: ${report.lines.join('; ')}`, { retryable: true });
  }
  const failed = report.lines.filter((l) => l.startsWith('FAIL')).map((l) => l.slice(5));
  const logPossible = report.method === 'log';
  if (source.capture === 'log') {
    const reason = logPossible ? 'capture: log in the config' : `capture: log in the config, but: ${failed.join('; ')}`;
    return { method: 'log', where: report.where, reason, logPossible, lines: report.lines, sql: report.sql };
  }
  if (logPossible) {
    const polled = offsets ? await offsets.get(`poll.${source.name}`).catch(() => undefined) : undefined;
    if (polled !== undefined) {
      return {
        method: 'poll',
        where: report.where,
        reason: 'log capture is now possible, but this source has been polled and stays polled (see docs/polling.md to move it)',
        logPossible,
        lines: report.lines,
        sql: report.sql,
      };
    }
    return { method: 'log', where: report.where, reason: 'the server and the account allow log capture', logPossible, lines: report.lines, sql: report.sql };
  }
  return { method: 'poll', where: report.where, reason: `log capture is not possible: ${failed.join('; ')}`, logPossible, lines: report.lines, sql: report.sql };
}

/** The capture module for a source and method (one adapter per technology behind one port). */
export function createCaptureSource(ctx: CaptureContext, method: CaptureMethod): CaptureSource<any> {
  const { source } = ctx;
  if (method === 'poll') return createPollSource(ctx);
  switch (source.kind) {
    case 'postgres':
      return new PostgresSource({
        name: source.name,
        url: source.url,
        slot: source.slot,
        publication: source.publication,
        snapshot: source.snapshot,
        chunkSize: source.poll.chunkSize,
        mappings: ctx.mappings,
        offsets: ctx.offsets,
        log: ctx.log,
        onReady: ctx.onReady,
      });
    case 'mysql':
      return new MysqlSource({
        name: source.name,
        url: source.url,
        snapshot: source.snapshot,
        chunkSize: source.poll.chunkSize,
        mappings: ctx.mappings,
        offsets: ctx.offsets,
        log: ctx.log,
        onReady: ctx.onReady,
      });
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
  }
}
