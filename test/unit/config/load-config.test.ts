import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/config/index.ts';
import { HmsSyncError } from '../../../src/errors.ts';
import { clearSecrets, redactSecrets } from '../../../src/util/secrets.ts';

const DIR = 'test/fixtures/config';
const ABS_DIR = path.resolve(DIR);
const ENV = {
  FHWA_PASSWORD: 'fhwa-pass-9',
  NATS_PASSWORD: 'nats-pass-9',
  MODERN_PASSWORD: 'modern-pass-9',
  HMS_SYNC_TOKEN: 'token-abc-9',
};

async function configError(file: string, env: Record<string, string | undefined> = ENV): Promise<HmsSyncError> {
  const error = await loadConfig(file, env).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(HmsSyncError);
  expect((error as HmsSyncError).code).toBe('CONFIG');
  return error as HmsSyncError;
}

beforeEach(() => clearSecrets());

describe('loadConfig: a valid file', () => {
  it('normalizes every key', async () => {
    const config = await loadConfig(`${DIR}/valid.yaml`, ENV);
    expect(config).toEqual({
      file: path.join(ABS_DIR, 'valid.yaml'),
      nats: {
        servers: ['nats://127.0.0.1:4222', 'tls://nats.example.org:4222'],
        stream: 'HMS_SYNC_TEST',
        subjectPrefix: 'hms.test',
        duplicateWindowMs: 5_400_000,
        replicas: 3,
        maxInflight: 512,
        offsetsBucket: 'test_offsets',
        user: 'bridge',
        password: 'nats-pass-9',
        lease: { ttlMs: 10_000, renewMs: 3_000 },
        heartbeatMs: 10_000,
      },
      sources: [
        {
          name: 'fhwa-east',
          kind: 'postgres',
          url: 'postgres://reader:fhwa-pass-9@127.0.0.1:5432/legacy',
          capture: 'log',
          poll: { intervalMs: 250, debounceMs: 0, chunkSize: 500, concurrency: 1, statementTimeoutMs: 30_000, recheckMs: 300_000 },
          mappings: path.join(ABS_DIR, 'mappings/fhwa'),
          publication: 'my_pub',
          slot: 'hms_sync_fhwa_east',
          snapshot: 'never',
          timezone: 'America/Chicago',
          maxSlotLagBytes: 1073741824,
        },
        {
          name: 'state',
          kind: 'mysql',
          url: 'mariadb://reader:plain-pass@db.example.org:3306/state',
          capture: 'auto',
          poll: { intervalMs: 5000, debounceMs: 2000, chunkSize: 1000, concurrency: 1, statementTimeoutMs: 30_000, recheckMs: 300_000 },
          mappings: path.join(ABS_DIR, 'mappings/state'),
          publication: 'hms_sync',
          slot: 'hms_sync_state',
          snapshot: 'initial',
          timezone: 'UTC',
          maxSlotLagBytes: 1073741824,
        },
        {
          name: 'archive',
          kind: 'sqlite',
          url: 'sqlite:./data/archive.db',
          path: path.join(ABS_DIR, 'data/archive.db'),
          capture: 'poll',
          poll: { intervalMs: 5000, debounceMs: 2000, chunkSize: 1000, concurrency: 1, statementTimeoutMs: 30_000, recheckMs: 300_000 },
          mappings: path.join(ABS_DIR, 'mappings/archive'),
          publication: 'hms_sync',
          slot: 'hms_sync_archive',
          snapshot: 'initial',
          timezone: 'UTC',
          maxSlotLagBytes: 1073741824,
        },
      ],
      reconcile: { schedule: '30 3 * * 1-5', target: { kind: 'postgres', url: 'postgresql://modern:modern-pass-9@modern:5432/copy' } },
      http: { host: '0.0.0.0', port: 9090, token: 'token-abc-9', tokens: [] },
      log: { level: 'debug' },
      subscribers: [
        { id: 'cloud-db', type: 'webhook', endpoint: 'https://example.org/hook', topics: ['bridge_inspection'], maxAttempts: 8 },
      ],
    });
  });

  it('fills the defaults', async () => {
    const config = await loadConfig(`${DIR}/minimal.yaml`, {});
    expect(config.nats).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      stream: 'HMS_SYNC',
      subjectPrefix: 'hms.sync',
      duplicateWindowMs: 120_000,
      replicas: 1,
      maxInflight: 4096,
      offsetsBucket: 'hms_sync_offsets',
      lease: { ttlMs: 10_000, renewMs: 3_000 },
        heartbeatMs: 10_000,
    });
    expect(config.sources[0]).toEqual({
      name: 'fhwa',
      kind: 'postgres',
      url: 'postgres://reader@127.0.0.1/legacy',
      capture: 'auto',
      poll: { intervalMs: 5000, debounceMs: 2000, chunkSize: 1000, concurrency: 1, statementTimeoutMs: 30_000, recheckMs: 300_000 },
      mappings: path.join(ABS_DIR, 'mappings/fhwa'),
      publication: 'hms_sync',
      slot: 'hms_sync_fhwa',
      snapshot: 'initial',
      timezone: 'UTC',
      maxSlotLagBytes: 1073741824,
    });
    expect(config.reconcile).toEqual({ schedule: '0 2 * * *', target: { kind: 'stream' } });
    expect(config.http).toBeUndefined();
    expect(config.log).toEqual({ level: 'info' });
    expect(config.subscribers).toEqual([]);
  });

  it('reads the DESIGN.md example as written, ${VAR} inside a flow mapping included', async () => {
    const config = await loadConfig(`${DIR}/design-example.yaml`, ENV);
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080, token: 'token-abc-9', tokens: [] });
    expect(config.sources[0]!.url).toBe('postgres://reader:fhwa-pass-9@127.0.0.1:5432/legacy');
    expect(config.sources[0]!.poll).toEqual({ intervalMs: 5000, debounceMs: 2000, chunkSize: 1000, concurrency: 1, statementTimeoutMs: 30_000, recheckMs: 300_000 });
    expect(config.reconcile.target).toEqual({ kind: 'stream' });
  });

  it('resolves mappings against the config file\'s folder, wherever the process runs', async () => {
    const config = await loadConfig(path.join(ABS_DIR, 'design-example.yaml'), ENV);
    expect(config.sources[0]!.mappings).toBe(path.join(ABS_DIR, 'mappings/fhwa'));
  });

  it('takes numbers from variables', () => {
    const text = 'sources:\n  - { name: a, kind: postgres, url: "postgres://h/db" }\nhttp: { port: ${PORT} }\nnats: { replicas: "${R}" }\n';
    const config = parseConfig('c.yaml', text, { PORT: '9999', R: '3' });
    expect(config.http?.port).toBe(9999);
    expect(config.nats.replicas).toBe(3);
  });
});

describe('loadConfig: errors name file:line:col and the key path', () => {
  it('an unknown key, with a suggestion', async () => {
    const error = await configError(`${DIR}/unknown-key.yaml`);
    expect(error.message).toBe(`${DIR}/unknown-key.yaml:9:5: sources[0].captur: unknown key (did you mean "capture"?)`);
  });

  it('an unset variable, naming it (and the literal $${ is not one)', async () => {
    const error = await configError(`${DIR}/missing-variable.yaml`, { FHWA_PASSWORD: 'x-secret' });
    expect(error.message).toBe(`${DIR}/missing-variable.yaml:6:10: http.token: environment variable HMS_SYNC_TOKEN is not set`);
    const config = await loadConfig(`${DIR}/missing-variable.yaml`, { FHWA_PASSWORD: 'x-secret', HMS_SYNC_TOKEN: 'tok-2' });
    expect(config.http?.token).toBe('literal ${NOT_A_VAR} then tok-2');
  });

  it('bad types and values, every one, in file order', async () => {
    const error = await configError(`${DIR}/bad-values.yaml`);
    const file = `${DIR}/bad-values.yaml`;
    expect(error.message.split('\n')).toEqual([
      `${file}:2:12: nats.servers: expected a NATS URL or a list of them, got a number`,
      `${file}:3:13: nats.replicas: must be <= 5 (got 7)`,
      `${file}:5:11: sources[0].name: a source name must match [a-z0-9_-]+`,
      `${file}:6:11: sources[0].kind: must be one of postgres, mysql, oracle, mssql, sqlite, webhook (got "postgress")`,
      `${file}:9:17: sources[0].poll.interval: expected a duration such as 250ms, 5s, 2m, 1h or 1h30m, got 5 (a bare number has no unit)`,
      `${file}:10:17: sources[0].poll.debounce: invalid duration "5x" (expected a duration such as 250ms, 5s, 2m, 1h or 1h30m)`,
      `${file}:14:15: sources[1].timezone: unknown time zone "Mars/Olympus_Mons" (expected an IANA name such as UTC or America/Chicago)`,
      `${file}:15:15: log.level: must be one of trace, debug, info, warn, error, fatal, silent (got "loud")`,
    ]);
  });

  it('duplicate source names, URL per kind, sqlite capture, reconcile target', async () => {
    const file = `${DIR}/cross-checks.yaml`;
    const error = await configError(file);
    expect(error.message.split('\n')).toEqual([
      `${file}:5:11: sources[1].name: duplicate source name "fhwa" (also sources[0])`,
      `${file}:7:10: sources[1].url: kind mysql needs a URL starting with mysql:// or mariadb:// (got "postgres://reader@127.0.0.1/legacy")`,
      `${file}:11:14: sources[2].capture: sqlite has no change log to read: use capture: poll (or auto)`,
      `${file}:14:5: reconcile.target.url: missing required key (kind mysql needs a url)`,
    ]);
  });

  it('a missing key points at the mapping that lacks it', async () => {
    const file = `${DIR}/missing-keys.yaml`;
    const error = await configError(file);
    expect(error.message).toBe(`${file}:4:5: sources[0].kind: missing required key`);
    expect(() => parseConfig('c.yaml', 'nats:\n  stream: X\n', {})).toThrow('c.yaml:1:1: sources: missing required key');
    expect(() => parseConfig('c.yaml', 'sources: []\n', {})).toThrow('c.yaml:1:10: sources: must not be empty');
  });

  it('not YAML', async () => {
    const error = await configError(`${DIR}/not-yaml.yaml`);
    expect(error.message).toBe(`${DIR}/not-yaml.yaml:4:1: Sequence item without - indicator (not valid YAML)`);
  });

  it('YAML that is not a mapping', async () => {
    const error = await configError(`${DIR}/list-root.yaml`);
    expect(error.message).toBe(`${DIR}/list-root.yaml:1:1: a config file must be a YAML mapping with nats, sources, ...`);
  });

  it('a file that is not there, or a folder', async () => {
    expect((await configError(`${DIR}/nope.yaml`)).message).toBe(`${DIR}/nope.yaml: config file not found`);
    expect((await configError(DIR)).message).toBe(`${DIR}: is a folder, not a config file`);
  });

  it('duplicate keys', () => {
    expect(() => parseConfig('c.yaml', 'log: { level: info }\nlog: { level: warn }\n', {})).toThrow(
      'c.yaml:2:1: log: duplicate key (first at line 1)',
    );
  });

  it('bad URLs, without showing their passwords', () => {
    const text = [
      'nats: { servers: [nats://ok:4222, "http://h:4222"] }',
      'sources:',
      '  - { name: a, kind: postgres, url: "postgres://u:${PW}@/db" }',
      '  - { name: b, kind: oracle, url: "mysql://u:hunter22@h/db" }',
      '',
    ].join('\n');
    let message = '';
    try {
      parseConfig('c.yaml', text, { PW: 'from-env-secret' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'c.yaml:1:35: nats.servers[1]: expected a nats:// (or tls://) URL such as nats://127.0.0.1:4222 (got "http://h:4222")',
      'c.yaml:3:37: sources[0].url: not a valid URL, or one without a host (got "postgres://u:***@/db"; characters such as @ # / ? in a password must be percent-encoded, e.g. @ as %40)',
      'c.yaml:4:35: sources[1].url: kind oracle needs a URL starting with oracle:// (got "mysql://u:***@h/db")',
    ]);
    expect(message).not.toContain('from-env-secret');
    expect(message).not.toContain('hunter22');
  });

  it('reports user without password rules and reserved values', () => {
    const base = 'sources:\n  - { name: a, kind: postgres, url: "postgres://h/db" }\n';
    expect(() => parseConfig('c.yaml', `${base}nats:\n  password: x\n`, {})).toThrow('c.yaml:4:13: nats.password: password needs user');
    expect(() => parseConfig('c.yaml', `${base}nats:\n  subjectPrefix: "hms.>"\n`, {})).toThrow(
      'c.yaml:4:18: nats.subjectPrefix: a subject prefix is tokens of [A-Za-z0-9_-] separated by dots, such as hms.sync',
    );
    expect(() => parseConfig('c.yaml', `${base}reconcile: { schedule: "every night" }\n`, {})).toThrow(
      'c.yaml:3:24: reconcile.schedule: expected a cron expression with 5 or 6 fields, such as "0 2 * * *" (got "every night")',
    );
    expect(() => parseConfig('c.yaml', `${base}http: { port: 70000 }\n`, {})).toThrow('c.yaml:3:15: http.port: must be <= 65535 (got 70000)');
  });
});

describe('secrets from the config', () => {
  it('every value from a variable, and literal passwords, are redacted from text', async () => {
    const config = await loadConfig(`${DIR}/valid.yaml`, ENV);
    const line = `connecting ${config.sources[0]!.url} ${config.sources[1]!.url} nats ${config.nats.password} token=${config.http?.token} modern-pass-9`;
    const redacted = redactSecrets(line);
    for (const secret of [...Object.values(ENV), 'plain-pass']) expect(redacted).not.toContain(secret);
    expect(redacted).toContain('127.0.0.1:5432/legacy');
  });

  it('an error message never shows a secret value', () => {
    const text = 'sources:\n  - { name: a, kind: postgres, url: "postgres://h/db", timezone: "${TZ_SECRET}" }\n';
    expect(() => parseConfig('c.yaml', text, { TZ_SECRET: 'Very/Secret_Zone' })).toThrow(
      'c.yaml:2:66: sources[0].timezone: unknown time zone "***" (expected an IANA name such as UTC or America/Chicago)',
    );
  });
});
