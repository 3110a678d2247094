import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { describeSplit, measureMainThread } from '../../../bench/support.ts';

// The bench's split of a bridge's main thread (on a core / waiting for a core / idle), taken
// here on this test's own main thread, whose state each case controls.
const hasSchedstat = existsSync(`/proc/${process.pid}/task/${process.pid}/schedstat`);

describe('measureMainThread', () => {
  it.runIf(hasSchedstat)('counts a busy loop as on a core or waiting for one, never idle (needs /proc schedstat)', () => {
    const stop = measureMainThread(process.pid);
    const until = process.hrtime.bigint() + 200_000_000n;
    while (process.hrtime.bigint() < until) {
      // spin: runnable the whole time
    }
    const split = stop()!;
    expect(split.onCore + split.waiting).toBeGreaterThan(0.9);
    expect(split.idle).toBeLessThan(0.1);
  });

  it.runIf(hasSchedstat)('counts a timer wait as idle (needs /proc schedstat)', async () => {
    const stop = measureMainThread(process.pid);
    await sleep(300);
    const split = stop()!;
    expect(split.idle).toBeGreaterThan(0.5);
    expect(split.onCore).toBeLessThan(0.5);
  });

  it('gives undefined for a process that does not exist', () => {
    // Above the kernel's pid_max limit (2^22), so no process has it.
    expect(measureMainThread(2 ** 23)()).toBeUndefined();
  });

  it('describes a split in whole percents', () => {
    expect(describeSplit({ onCore: 0.784, waiting: 0.121, idle: 0.095 })).toBe('on a core 78 %, waiting for a core 12 %, idle 10 %');
  });
});
