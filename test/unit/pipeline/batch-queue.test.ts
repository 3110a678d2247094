import { describe, expect, it } from 'vitest';
import { BatchQueue } from '../../../src/util/batch-queue.ts';

describe('batch queue', () => {
  it('makes the producer wait while full and releases it when the consumer takes', async () => {
    const queue = new BatchQueue<number>(2);
    queue.push(1);
    queue.push(2);
    let released = false;
    expect(queue.hasSpace).toBe(false);
    const producer = queue.whenSpace()!.then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    expect(await queue.take()).toBe(1);
    await producer;
    expect(released).toBe(true);
    expect(queue.hasSpace).toBe(true);
    expect(queue.whenSpace()).toBeUndefined();
  });

  it('has space for a producer once failed or ended, as whenSpace resolves then', async () => {
    const failed = new BatchQueue<number>(1);
    failed.push(1);
    expect(failed.hasSpace).toBe(false);
    failed.fail(new Error('gone'));
    expect(failed.hasSpace).toBe(true);
    const ended = new BatchQueue<number>(1);
    ended.push(1);
    ended.end();
    expect(ended.hasSpace).toBe(true);
    await ended.whenSpace();
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
