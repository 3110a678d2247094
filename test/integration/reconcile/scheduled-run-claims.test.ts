// Several bridge processes with one config: each scheduled run's tables go to the first process
// that claims them in NATS KV, so no table is compared twice and the work spreads.
import { describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { claimer } from '../../../reconcile/scheduler.ts';
import { uniqueName } from '../../support/context.ts';
import { withNats } from '../../support/stream.ts';

describe('scheduled reconciliation claims', () => {
  it('give each table of a tick to exactly one process', async () => {
    const stream = uniqueName('CLAIMS').toUpperCase().replace(/[^A-Z0-9_]/g, '_');
    const config = parseConfig('c.yaml', `nats: { servers: ${inject('natsUrl')}, stream: ${stream} }\nsources:\n  - { name: a, kind: postgres, url: "postgres://h/db" }\n`, {});
    const tick = new Date('2026-11-22T02:00:00Z');
    await withNats(inject('natsUrl'), async (nc) => {
      // Two processes, both woken by the same tick, claiming in interleaved order.
      const first = await claimer(nc, config, tick);
      const second = await claimer(nc, config, tick);
      const tables = ['public.a', 'public.b', 'public.c', 'public.d'];
      const results = await Promise.all(tables.flatMap((t) => [first('a', t).then((ok) => ['first', t, ok] as const), second('a', t).then((ok) => ['second', t, ok] as const)]));
      for (const table of tables) {
        const winners = results.filter(([, t, ok]) => t === table && ok);
        expect(winners, table).toHaveLength(1);
      }
      // The next tick is a new run: the tables are free again.
      const next = await claimer(nc, config, new Date('2026-11-23T02:00:00Z'));
      expect(await next('a', 'public.a')).toBe(true);
      expect(await next('a', 'public.a')).toBe(false);
    });
  });
});
