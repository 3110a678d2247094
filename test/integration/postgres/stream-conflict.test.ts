import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, inject, it } from 'vitest';
import { runCli, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { COUNTER_MAPPING, createCounters } from '../../support/pg-load.ts';
import { withNats } from '../../support/stream.ts';

describe('stream ownership', () => {
  it('refuses to start when another stream owns the subject prefix, naming that stream', async () => {
    await using db = await freshDatabase('conflict');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 1);
    const setup = writeBridgeFiles(ws, { natsUrl, id: uniqueName('conflict'), source: { name: 'src', url: db.url }, mappings: { 'counters.yaml': COUNTER_MAPPING } });
    const other = `OTHER_${setup.stream}`;
    await withNats(natsUrl, async (nc) => {
      await (await jetstreamManager(nc)).streams.add({ name: other, subjects: [`${setup.prefix}.>`] });
    });
    try {
      const result = await runCli(['run', '-c', setup.configPath]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`subjects "${setup.prefix}.>" already belong to stream ${other}`);
      expect(result.stderr).toContain(`nats.stream: ${other}`);
    } finally {
      await withNats(natsUrl, async (nc) => (await jetstreamManager(nc)).streams.delete(other));
    }
  });
});
