import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'poll-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function load(poll: string): Promise<any> {
  const file = join(dir, `c${Math.random().toString(16).slice(2)}.yaml`);
  writeFileSync(file, `sources:\n  - name: s\n    kind: postgres\n    url: postgres://u:p@127.0.0.1:5432/db\n${poll ? `    poll: ${poll}\n` : ''}`);
  return loadConfig(file, {});
}

describe('poll: config keys', () => {
  it('defaults: one statement at once, 30 s statement timeout, log capture rechecked every 5 minutes', async () => {
    const config = await load('');
    expect(config.sources[0].poll).toEqual({ intervalMs: 5000, debounceMs: 2000, chunkSize: 1000, concurrency: 1, statementTimeoutMs: 30_000, recheckMs: 300_000 });
  });

  it('reads concurrency, statementTimeout and recheck', async () => {
    const config = await load('{ concurrency: 3, statementTimeout: 2m, recheck: 2s }');
    expect(config.sources[0].poll).toMatchObject({ concurrency: 3, statementTimeoutMs: 120_000, recheckMs: 2000 });
  });

  it('rejects a bare number, zero concurrency and unknown keys, naming the key', async () => {
    await expect(load('{ statementTimeout: 30 }')).rejects.toThrow(/statementTimeout.*bare number/s);
    await expect(load('{ concurrency: 0 }')).rejects.toThrow(/concurrency/);
    await expect(load('{ recheck: soon }')).rejects.toThrow(/recheck.*invalid duration/s);
    await expect(load('{ concurency: 2 }')).rejects.toThrow(/concurency/);
  });
});
