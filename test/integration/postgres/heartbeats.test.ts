// Heartbeats: each source's state on core NATS at the configured interval, outside the
// stream, so an idle stream stays still.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, inject, it } from 'vitest';
import { startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { waitFor } from '../../support/wait.ts';

const MAPPING = `
table: public.crews
entity: crew
fields:
  id: { from: id, type: integer }
`;

describe('heartbeats', () => {
  it('go to core NATS every interval with the source state and position, and never into the stream', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    await db.query('CREATE TABLE crews (id integer PRIMARY KEY)');
    await db.query('INSERT INTO crews VALUES (1), (2)');
    const setup = writeBridgeFiles(ws, { natsUrl: inject('natsUrl'), id: uniqueName('beat'), source: { name: 'fhwa', url: db.url }, mappings: { 'crews.yaml': MAPPING }, nats: 'heartbeat: 200ms' });
    const nc = await connect({ servers: inject('natsUrl') });
    try {
      const beats: Array<{ source: string; state: string; method: string | null; position: string | null; pid: number; at: number }> = [];
      const sub = nc.subscribe(`_HMS.heartbeat.${setup.prefix}.fhwa`);
      void (async () => {
        for await (const m of sub) beats.push({ ...m.json<any>(), at: Date.now() });
      })();
      await using bridge = startBridgeProcess(['run', '-c', setup.configPath]);
      await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
      await db.query('INSERT INTO crews VALUES (3)');
      const online = await waitFor(() => beats.filter((b) => b.state === 'online' && b.position !== null).length >= 5 && beats, { what: 'five online heartbeats', timeoutMs: 15_000 });
      const last = online[online.length - 1]!;
      expect(last).toMatchObject({ source: 'fhwa', state: 'online', method: 'log', pid: bridge.pid });
      expect(last.position).toMatch(/^[0-9A-F]{16}-0{7}1$/);
      // About every 200 ms: five beats cannot come faster than that.
      const recent = online.slice(-5);
      expect(recent[4]!.at - recent[0]!.at).toBeGreaterThanOrEqual(4 * 150);
      // The stream holds the envelopes and the status change, no heartbeat.
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(setup.stream);
      expect(info.state.messages).toBe(4); // r 1, r 2, c 3, status online
      sub.unsubscribe();
    } finally {
      await nc.close();
    }
  });
});
