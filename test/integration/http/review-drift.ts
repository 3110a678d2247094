// Drift for the review API and console tests, made while the bridge keeps running: two keys'
// envelopes vanish from the stream and a third key's latest envelope is replaced by one with a
// tampered value (at the same, old position, so reconcile reports it as `different`, not as a
// change in flight). The tampered value holds markup, to check the console shows it as text.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { withNats } from '../../support/stream.ts';

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
