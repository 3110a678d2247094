import { MysqlSource } from '../../capture/mysql/index.ts';
import { PostgresSource } from '../../capture/postgres/index.ts';
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

/** The log-capture module for a source's kind (one adapter per technology behind one port). */
export function createCaptureSource(ctx: CaptureContext): CaptureSource<any> {
  const { source } = ctx;
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
      throw new HmsSyncError('CONFIG', `source ${source.name}: kind ${source.kind} has no capture module in this build`);
  }
}

/** Kinds createCaptureSource can build. */
export const CAPTURE_KINDS: ReadonlySet<string> = new Set(['postgres', 'mysql']);
