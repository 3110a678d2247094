import { describe, expect, it } from 'vitest';
import { BatchQueue } from '../../../src/util/batch-queue.ts';

describe('batch queue', () => {
  it('makes the producer wait while full and releases it when the consumer takes', async () => {
    const queue = new BatchQueue<number>(2);
    queue.push(1);
    queue.push(2);
    let released = false;
    const producer = queue.whenSpace().then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    expect(await queue.take()).toBe(1);
    await producer;
    expect(released).toBe(true);
  });

  it('asks the fallback only when empty, and surfaces a failure to the consumer', async () => {
    const queue = new BatchQueue<string>(4);
    expect(await queue.take(() => 'open')).toBe('open');
    const waiting = queue.take();
    queue.fail(new Error('stream died'));
    await expect(waiting).rejects.toThrow('stream died');
  });

  it('returns undefined once ended and drained', async () => {
    const queue = new BatchQueue<string>(4);
    queue.push('a');
    queue.end();
    expect(await queue.take()).toBe('a');
    expect(await queue.take()).toBeUndefined();
  });
});
