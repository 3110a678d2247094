import { HmsSyncError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { CaptureSource, Sink } from '../ports.ts';
import { translate, type TableRoute, type TranslateContext } from './translate.ts';

export interface PipelineCounters {
  envelopes: number;
  deadLetters: number;
  batches: number;
  committed: number;
  /** Position of the last change whose checkpoint went back to the source (acknowledged). */
  position?: string;
  /** Its source commit time, where the source gives one. */
  commitTs?: string | null;
  /** When that checkpoint went back (ISO 8601). */
  committedAt?: string;
}

export interface PipelineOptions {
  routes: ReadonlyMap<string, TableRoute>;
  ctx: TranslateContext;
  log: Logger;
  /** How long a drain (SIGTERM) may wait for outstanding acknowledgements. */
  drainTimeoutMs?: number;
  counters?: PipelineCounters;
  /** Per-envelope metrics (src/metrics SourceMetrics): called on the hot path, must be cheap. */
  metrics?: PipelineMetrics;
}

export interface PipelineMetrics {
  envelope(entity: string, op: string): void;
  deadLetter(entity: string): void;
}

/**
 * capture -> map -> publish -> acknowledge, one direction. Batches are published without
 * waiting for their acks (pipelined); a checkpoint goes back to the source only once the
 * publisher's acknowledged sequence has passed its batch, and checkpoints go back in order.
 */
export async function runPipeline<C>(source: CaptureSource<C>, sink: Sink, options: PipelineOptions, signal: AbortSignal): Promise<void> {
  const counters = options.counters ?? { envelopes: 0, deadLetters: 0, batches: 0, committed: 0 };
  const pending: Array<{ seq: number; checkpoint: C; position?: string; commitTs?: string | null }> = [];
  let wakeCommitter: (() => void) | undefined;
  let committerError: unknown;
  let producing = true;
  const committerAbort = new AbortController();

  const committer = (async () => {
    for (;;) {
      const first = pending[0];
      if (!first) {
        if (!producing) return;
        await new Promise<void>((resolve) => (wakeCommitter = resolve));
        wakeCommitter = undefined;
        continue;
      }
      await sink.waitAcked(first.seq, committerAbort.signal);
      // Everything acknowledged so far: hand back only the newest checkpoint it covers.
      let ready = pending.shift()!;
      while (pending[0] && pending[0].seq <= sink.ackedThrough) ready = pending.shift()!;
      await source.commit(ready.checkpoint);
      counters.committed += 1;
      if (ready.position !== undefined) {
        counters.position = ready.position;
        counters.commitTs = ready.commitTs ?? null;
        counters.committedAt = new Date().toISOString();
      }
    }
  })().catch((error: unknown) => {
    committerError = error;
  });

  try {
    for await (const batch of source.changes(signal)) {
      if (committerError) throw committerError;
      const now = new Date().toISOString();
      for (const change of batch.changes) {
        const route = options.routes.get(change.table);
        if (!route) {
          // Before the capture said which tables it maps (onReady), no change can be routed:
          // skipping it would commit past it, so the attempt fails instead (and is retried).
          if (options.routes.size === 0) {
            throw new HmsSyncError('INTERNAL', `a change of ${change.table} arrived before the capture was ready; the attempt starts again`, { retryable: true });
          }
          continue; // a table in the publication that no mapping file names
        }
        const out = translate(change, route, options.ctx, now);
        if (out.deadLetter) {
          counters.deadLetters += 1;
          options.metrics?.deadLetter(out.entity);
          options.log.warn({ table: change.table, position: change.position, subject: out.message.subject }, 'row sent to the dead-letter subject');
        } else {
          counters.envelopes += 1;
          options.metrics?.envelope(out.entity, change.op);
        }
        const handedOver = sink.publish(out.message);
        if (handedOver) await handedOver;
      }
      counters.batches += 1;
      if (batch.checkpoint !== undefined) {
        const last = batch.changes[batch.changes.length - 1];
        pending.push({ seq: sink.lastSequence, checkpoint: batch.checkpoint, position: last?.position, commitTs: last?.commitTs });
        wakeCommitter?.();
      }
      if (signal.aborted) break;
    }
    // Drain: what was published gets its acks and its checkpoint before we return.
    producing = false;
    wakeCommitter?.();
    const timeout = setTimeout(() => committerAbort.abort(), options.drainTimeoutMs ?? 30_000);
    try {
      await committer;
    } finally {
      clearTimeout(timeout);
    }
    if (committerError) throw committerError;
  } catch (error) {
    producing = false;
    committerAbort.abort();
    wakeCommitter?.();
    await committer;
    if (error instanceof HmsSyncError && error.code === 'ABORTED' && signal.aborted) return;
    throw error;
  }
}
