// Drift for the review API and console tests, made while the bridge keeps running: two keys'
// envelopes vanish from the stream and a third key's latest envelope is replaced by one with a
// tampered value (at the same, old position, so reconcile reports it as `different`, not as a
// change in flight). The tampered value holds markup, to check the console shows it as text.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { FreshDatabase } from '../../support/context.ts';
import { liveRows, readStream, withNats } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

export const TAMPERED = `<img src=x onerror="document.title='pwned'"> & "quoted"`;

export async function makeStreamDrift(natsUrl: string, stream: string, entityPrefix: string): Promise<void> {
  await withNats(natsUrl, async (nc) => {
    const jsm = await jetstreamManager(nc);
    for (const id of [9, 250]) await jsm.streams.purge(stream, { filter: `${entityPrefix}${id}` });
    const latest = await jsm.streams.getMessage(stream, { last_by_subj: `${entityPrefix}5` });
    if (!latest) throw new Error(`no envelope for ${entityPrefix}5`);
    const envelope = latest.json<{ id: string; after: Record<string, unknown> }>();
    envelope.after = { ...envelope.after, payload: TAMPERED };
    await jetstream(nc).publish(`${entityPrefix}5`, JSON.stringify(envelope), { msgID: `tampered-${envelope.id}` });
  });
}

/**
 * Updates counters 1-3 to version 2 and waits for the snapshot and those updates in the stream.
 * A change after the snapshot moves the WAL on: a resync at the snapshot's own point would
 * re-use the snapshot rows' envelope ids and be dropped as duplicates (reported to the lead).
 */
export async function updateAfterSnapshot(db: FreshDatabase, natsUrl: string, stream: string, entityPrefix: string): Promise<void> {
  await db.query('UPDATE counters SET version = 2 WHERE id <= 3');
  await waitFor(async () => [...liveRows(await readStream(natsUrl, stream), entityPrefix).values()].filter((r) => r.version === 2).length === 3, {
    what: 'the snapshot and the updates in the stream',
    timeoutMs: 30_000,
  });
}
