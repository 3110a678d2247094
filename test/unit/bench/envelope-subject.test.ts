import { describe, expect, it } from 'vitest';
import { isEnvelopeSubject } from '../../../bench/support.ts';
import { deadLetterSubject, entitySubject, statusSubject } from '../../../src/envelope/index.ts';

// The bench times a catch-up from the first envelope: status messages and dead letters share
// the stream and its subject prefix, and must not start (or count towards) the clock. The
// subjects are made by the bridge's own functions.
describe('isEnvelopeSubject', () => {
  it('takes envelope subjects, of one-field, composite and truncate keys', () => {
    expect(isEnvelopeSubject('bench.mariadb', entitySubject('bench.mariadb', 'src', 'bench', { id: 17 }))).toBe(true);
    expect(isEnvelopeSubject('bench.pg', entitySubject('bench.pg', 'src', 'permit', { a: 'P 1', b: 'x.y' }))).toBe(true);
    expect(isEnvelopeSubject('hms', entitySubject('hms', 'src', 'permit', null))).toBe(true);
  });

  it('leaves out status messages and dead letters', () => {
    expect(isEnvelopeSubject('bench.mariadb', statusSubject('bench.mariadb', 'src'))).toBe(false);
    expect(isEnvelopeSubject('bench.mariadb', deadLetterSubject('bench.mariadb', 'src', 'bench'))).toBe(false);
  });

  it('leaves out another prefix', () => {
    expect(isEnvelopeSubject('bench.pg', entitySubject('bench.pg2', 'src', 'bench', { id: 1 }))).toBe(false);
    expect(isEnvelopeSubject('bench.pg', entitySubject('bench', 'pg', 'src', { id: 1 }))).toBe(false);
  });
});
