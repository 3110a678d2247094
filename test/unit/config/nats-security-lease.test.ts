// nats.lease, nats.creds and nats.tls: defaults, paths relative to the config file, and the
// checks that tie keys together.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';

const SOURCE = 'sources:\n  - { name: a, kind: postgres, url: "postgres://u:p@127.0.0.1/db" }\n';
const parse = (nats: string) => parseConfig('/etc/hms/hms-sync.yaml', `nats:\n${nats}\n${SOURCE}`, {});

describe('nats.lease / nats.creds / nats.tls', () => {
  it('defaults to a 10 s lease renewed every 3 s, no creds, no tls', () => {
    const config = parse('  stream: S');
    expect(config.nats.lease).toEqual({ ttlMs: 10_000, renewMs: 3_000 });
    expect(config.nats.creds).toBeUndefined();
    expect(config.nats.tls).toBeUndefined();
  });

  it('takes durations and resolves files next to the config file', () => {
    const config = parse('  lease: { ttl: 20s, renew: 5s }\n  creds: ./bridge.creds\n  tls: { ca: certs/ca.pem, cert: /abs/client.pem, key: certs/client.key }');
    expect(config.nats.lease).toEqual({ ttlMs: 20_000, renewMs: 5_000 });
    expect(config.nats.creds).toBe('/etc/hms/bridge.creds');
    expect(config.nats.tls).toEqual({ ca: '/etc/hms/certs/ca.pem', cert: '/abs/client.pem', key: '/etc/hms/certs/client.key' });
  });

  it.each([
    ['  lease: { ttl: 4s, renew: 3s }', /nats\.lease\.renew: must be at most half of lease\.ttl/],
    ['  lease: { ttl: 500ms }', /nats\.lease\.ttl: must be at least 1000ms/],
    ['  lease: { ttl: 10 }', /nats\.lease\.ttl: .*bare number/],
    ['  tls: { cert: c.pem }', /nats\.tls\.key: tls\.cert and tls\.key go together/],
    ['  creds: a.creds\n  token: t', /nats\.creds: give one of user\/password, token or creds/],
    ['  tls: { ca: a.pem, verify: false }', /nats\.tls.*verify/],
  ])('refuses %j', (nats, message) => {
    expect(() => parse(nats)).toThrow(message);
  });
});
