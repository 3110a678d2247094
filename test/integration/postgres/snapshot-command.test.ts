import { describe, expect, inject, it } from 'vitest';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { COUNTER_MAPPING, createCounters, runCounterLoad, tableVersions } from '../../support/pg-load.ts';
import { liveRows, readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

describe('snapshot command', () => {
  it('re-emits the current rows as r envelopes positioned after every change already streamed', async () => {
    await using db = await freshDatabase('resnap');
    using ws = workspace();
    const natsUrl = inject('natsUrl');
    await createCounters(db.url, 200);
    const setup = writeBridgeFiles(ws, { natsUrl, id: uniqueName('resnap'), source: { name: 'src', url: db.url }, mappings: { 'counters.yaml': COUNTER_MAPPING } });
    const entity = `${setup.prefix}.src.counter.`;
    const bridge = startBridgeProcess(['run', '-c', setup.configPath]);
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
    await runCounterLoad(db.url, { rows: 200, transactions: 20, perTx: 5 });
    const table = await tableVersions(db.url);
    await waitFor(
      async () => {
        const live = liveRows(await readStream(natsUrl, setup.stream), entity);
        return [...table].every(([id, v]) => live.get(entity + id)?.version === v);
      },
      { what: 'the stream to catch up', timeoutMs: 30_000 },
    );
    expect(await bridge.stop()).toBe(0);
    const before = await readStream(natsUrl, setup.stream, `${entity}>`);
    const lastStreamed = before.map((m) => m.body.source.position).sort().at(-1)!;

    const result = await runCli(['snapshot', '-c', setup.configPath, '--table', 'public.counters']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/src: 200 rows re-emitted as r envelopes, 0 to the dead-letter subject/);
    const after = await readStream(natsUrl, setup.stream, `${entity}>`);
    const emitted = after.slice(before.length);
    expect(emitted).toHaveLength(200);
    expect(emitted.every((m) => m.body.op === 'r' && m.body.source.capture === 'snapshot')).toBe(true);
    expect(emitted[0]!.body.source.position > lastStreamed).toBe(true);
    for (const m of emitted) expect(m.body.after.version).toBe(table.get(m.body.key.id));

    const unknown = await runCli(['snapshot', '-c', setup.configPath, '--source', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no source named "nope"/);
  }, 120_000);
});
