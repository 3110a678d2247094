import { describe, expect, it } from 'vitest';
import { HmsSyncError } from '../../../src/errors.ts';
import { retryDelayMs } from '../../../src/pipeline/job.ts';

describe('retry delay by failure kind', () => {
  it('waits long for what a person must fix, briefly for what may pass', () => {
    const auth = new HmsSyncError('SOURCE_AUTH', 'bad password', { retryable: true });
    const refused = new HmsSyncError('SOURCE_UNREACHABLE', 'refused', { retryable: true });
    expect(retryDelayMs(auth, 1)).toBe(60_000);
    expect(retryDelayMs(refused, 1)).toBe(500);
    expect(retryDelayMs(refused, 3)).toBe(2_000);
    expect(retryDelayMs(refused, 50)).toBe(15_000);
  });
});
