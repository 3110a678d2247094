import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { connect } from '../../../src/lib/index.ts';
import type { Envelope } from '../../../src/lib/index.ts';
import { uniqueName } from '../../support/context.ts';
import { startNats } from '../../support/servers.ts';
import { readStream } from '../../support/stream.ts';
import { waitFor } from '../../support/wait.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function names() {
  const id = uniqueName('lib').replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  return { stream: `T_${id}`.toUpperCase(), subjectPrefix: `t.${id}` };
}

describe('library API', () => {
  it('emitChange publishes a conforming envelope with a deterministic id; a repeat with the same position is a duplicate', async () => {
    const n = names();
    await using hms = await connect({ servers: inject('natsUrl'), ...n, source: 'permits' });
    const first = await hms.emitChange('permit', { permitId: 'P 1' }, { permitId: 'P 1', fee: '12.50' }, { op: 'c', position: '0000000001' });
    const again = await hms.emitChange('permit', { permitId: 'P 1' }, { permitId: 'P 1', fee: '12.50' }, { op: 'c', position: '0000000001' });
    const update = await hms.emitChange('permit', { permitId: 'P 1' }, { permitId: 'P 1', fee: '13.00' });
    const gone = await hms.emitChange('permit', { permitId: 'P 1' }, null);
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ id: first.id, duplicate: true, seq: first.seq });
    expect(first.subject).toBe(`${n.subjectPrefix}.permits.permit.P_201`);
    expect(update.position > first.position).toBe(true);
    expect(update.position).toMatch(/^\d{13}-[0-9A-F]{8}-[0-9A-F]{8}$/); // the clock's position, then this client's tag
    expect(gone.position > update.position).toBe(true);
    const stream = await readStream(inject('natsUrl'), n.stream);
    expect(stream.map((m) => `${m.body.op} ${m.body.after?.fee ?? null}`)).toEqual(['c 12.50', 'u 13.00', 'd null']);
    expect(stream[0]!.body).toMatchObject({
      id: first.id,
      entity: 'permit',
      key: { permitId: 'P 1' },
      before: null,
      source: { name: 'permits', kind: 'app', table: 'permit', capture: 'api', position: '0000000001' },
    });
    expect(stream[0]!.msgId).toBe(first.id);
    expect(stream[0]!.op).toBe('c');
    await expect(hms.emitChange('dlq', { a: 1 }, { a: 1 })).rejects.toThrow(/must match \[a-z0-9_\]\+ and not be dlq or status/);
    await expect(hms.emitChange('permit', {}, { a: 1 })).rejects.toThrow(/key must be a non-empty object/);
    await expect(hms.emitChange('permit', { a: 1 }, { a: 1 }, { op: 'd' })).rejects.toThrow(/carries after: null/);
  });

  it('subscribe delivers in order, retries a failing handler in place, dead-letters after maxAttempts and resumes its durable', async () => {
    const n = names();
    await using hms = await connect({ servers: inject('natsUrl'), ...n, source: 'permits' });
    const seen: string[] = [];
    const attempts = new Map<string, number>();
    const deadLettered: string[] = [];
    const handler = (envelope: Envelope) => {
      const tag = `${envelope.key!.permitId}:${envelope.after?.status ?? 'deleted'}`;
      const count = (attempts.get(tag) ?? 0) + 1;
      attempts.set(tag, count);
      if (tag === 'P-2:flaky' && count < 3) throw new Error('downstream busy');
      if (tag === 'P-3:poison') throw new Error('cannot apply');
      seen.push(tag);
    };
    const options = { durable: 'permits_app', maxAttempts: 4, retryDelayMs: 20, onDeadLetter: (e: Envelope) => void deadLettered.push(e.key!.permitId as string) };
    let sub = await hms.subscribe('permit', handler, options);
    await hms.emitChange('permit', { permitId: 'P-1' }, { permitId: 'P-1', status: 'issued' });
    await hms.emitChange('permit', { permitId: 'P-2' }, { permitId: 'P-2', status: 'flaky' });
    await hms.emitChange('permit', { permitId: 'P-3' }, { permitId: 'P-3', status: 'poison' });
    await hms.emitChange('permit', { permitId: 'P-2' }, { permitId: 'P-2', status: 'final' });
    await waitFor(() => seen.length === 3, { what: 'three envelopes handled', timeoutMs: 15_000 }).catch((e) => { throw new Error(`${e.message}: seen ${JSON.stringify(seen)} attempts ${JSON.stringify([...attempts])}`); });
    // P-2's retried change is handled before its later change (per-key order), P-3 given up.
    expect(seen).toEqual(['P-1:issued', 'P-2:flaky', 'P-2:final']);
    expect(attempts.get('P-2:flaky')).toBe(3);
    expect(attempts.get('P-3:poison')).toBe(4);
    expect(deadLettered).toEqual(['P-3']);

    // Stopped, the durable keeps its place: a change emitted meanwhile arrives on resubscribe.
    await sub.stop();
    await hms.emitChange('permit', { permitId: 'P-4' }, { permitId: 'P-4', status: 'issued' });
    sub = await hms.subscribe('permit', handler, options);
    await waitFor(() => seen.length === 4, { what: 'the change emitted while stopped', timeoutMs: 15_000 });
    expect(seen[3]).toBe('P-4:issued');
    await sub.stop();
  });

  it('the README example runs as written', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Library API'));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toContain("import { connect } from 'hms-sync'");
    // A fresh nats-server: the example uses the default stream and durable names.
    await using nats = await startNats();
    // Inside the package folder, so `hms-sync` resolves to this package (self-reference).
    const dir = join(ROOT, 'test-output', uniqueName('readme-example'));
    mkdirSync(dir, { recursive: true });
    try {
      const file = join(dir, 'example.mjs');
      writeFileSync(file, code!);
      const { stdout } = await promisify(execFile)(process.execPath, [file], { env: { ...process.env, NATS_URL: nats.url }, timeout: 60_000 });
      expect(stdout.trim()).toBe('u P-1 issued true');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
