import type { Logger } from '../log.ts';
import type { PauseWatch } from './pause-state.ts';

/**
 * A whole source paused: no capture attempt runs. A pause that arrives during an attempt
 * aborts it the way SIGTERM does (what was published is acknowledged and committed, nothing
 * after it is read), so log capture keeps its slot or binlog position and polling simply
 * stops; the next attempt starts once the source is resumed.
 */
export async function runUnlessPaused(
  watch: PauseWatch,
  source: string,
  log: Logger,
  signal: AbortSignal,
  attempt: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  if (watch.isSourcePaused(source)) {
    log.info({ source, event: 'source_paused' }, `source ${source} is paused: capture waits for resume`);
    await watch.until(() => !watch.isSourcePaused(source), signal);
    if (signal.aborted) return;
    log.info({ source, event: 'source_resumed' }, `source ${source} resumed`);
  }
  const paused = new AbortController();
  const off = watch.onChange(() => {
    if (watch.isSourcePaused(source) && !paused.signal.aborted) {
      log.info({ source, event: 'source_paused' }, `source ${source} paused: stopping capture after what is in flight`);
      paused.abort();
    }
  });
  try {
    await attempt(AbortSignal.any([signal, paused.signal]));
  } finally {
    off();
  }
}
