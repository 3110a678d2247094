/**
 * Webhook positions: `<ms since epoch, 13 digits>-<sequence within that ms, 8 hex>`. They sort
 * as plain strings in arrival order within a source; a clock that steps back does not make
 * them go back (the last millisecond is kept and the sequence counts on).
 */
import { hex8 } from '../util/hex8.ts';

export class PositionClock {
  private lastMs = 0;
  private seq = 0;

  constructor(private readonly now: () => number = Date.now) {}

  next(): string {
    const now = this.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else {
      this.seq += 1;
      if (this.seq > 0xffffffff) {
        this.lastMs += 1;
        this.seq = 0;
      }
    }
    return `${String(this.lastMs).padStart(13, '0')}-${hex8(this.seq)}`;
  }
}
