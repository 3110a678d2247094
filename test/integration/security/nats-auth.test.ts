// The bridge against nats-servers with authorization on: user/password, token, and a TLS
// listener that wants a client certificate. Right credentials: it captures; wrong ones: it
// exits 1 with one line that names the server and what is wrong.
import { describe, expect, it } from 'vitest';
import { startNatsProcess } from '../../../src/servers/index.ts';
import { runCli, startBridgeProcess, workspace, writeBridgeFiles, type Workspace } from '../../support/bridge.ts';
import { freshDatabase, uniqueName } from '../../support/context.ts';
import { COUNTER_MAPPING, createCounters } from '../../support/pg-load.ts';
import { hasOpenssl, makeCertificates } from '../../support/tls-certs.ts';

const LOG_LEVEL = { HMS_SYNC_LOG_LEVEL: 'info' };

function config(ws: Workspace, natsUrl: string, dbUrl: string, natsKeys: string): string {
  // writeBridgeFiles puts servers first; the credentials go right after it, inside `nats:`.
  return writeBridgeFiles(ws, {
    natsUrl: `${natsUrl}\n${natsKeys.split('\n').map((line) => `  ${line}`).join('\n')}`,
    id: uniqueName('sec'),
    source: { name: 'src', url: dbUrl },
    mappings: { 'counters.yaml': COUNTER_MAPPING },
  }).configPath;
}

async function expectCaptures(configPath: string): Promise<void> {
  const bridge = startBridgeProcess(['run', '-c', configPath], LOG_LEVEL);
  try {
    await bridge.waitForOutput(/streaming changes/, 'the bridge to stream', 60_000);
    expect(await bridge.stop()).toBe(0);
  } finally {
    await bridge.kill();
  }
}

/** `run` must fail fast with exit 1 and one line of explanation, no stack trace. */
async function expectRefused(configPath: string, expected: RegExp): Promise<void> {
  const t0 = Date.now();
  const { code, stderr } = await runCli(['run', '-c', configPath], LOG_LEVEL, 60_000);
  const lines = stderr.split('\n').filter((line) => line.startsWith('hms-sync: '));
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(expected);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(code).toBe(1);
  console.log(`refused in ${Date.now() - t0} ms: ${lines[0]}`);
}

describe('nats-auth', () => {
  it('connects with user and password, and names the server when they are wrong', async () => {
    await using nats = await startNatsProcess({ config: 'authorization { user: bridge, password: "s3cret-pw" }\n' });
    await using db = await freshDatabase('secuser');
    using ws = workspace();
    await createCounters(db.url, 10);
    await expectCaptures(config(ws, nats.url, db.url, 'user: bridge\npassword: s3cret-pw'));
    using bad = workspace();
    const where = new RegExp(`cannot connect to NATS at ${nats.url.replaceAll('.', '\\.')}: the server rejected user "bridge" or its password`);
    await expectRefused(config(bad, nats.url, db.url, 'user: bridge\npassword: wrong'), where);
    using none = workspace();
    await expectRefused(config(none, nats.url, db.url, ''), /the server requires credentials and none are configured/);
  }, 180_000);

  it('connects with a token, and says so when it is wrong', async () => {
    await using nats = await startNatsProcess({ config: 'authorization { token: "t0ken-for-the-bridge" }\n' });
    await using db = await freshDatabase('sectoken');
    using ws = workspace();
    await createCounters(db.url, 10);
    await expectCaptures(config(ws, nats.url, db.url, 'token: t0ken-for-the-bridge'));
    using bad = workspace();
    await expectRefused(config(bad, nats.url, db.url, 'token: not-the-token'), /NATS at nats:\/\/127\.0\.0\.1:\d+: the server rejected the token \(nats\.token\)/);
  }, 180_000);

  it.skipIf(!hasOpenssl())('connects over TLS with a client certificate, and fails clearly without the CA', async () => {
    using certs = workspace('hms-sync-certs-');
    const tls = makeCertificates(certs.dir);
    await using nats = await startNatsProcess({
      config: [
        'tls {',
        `  cert_file: "${tls.serverCert}"`,
        `  key_file: "${tls.serverKey}"`,
        `  ca_file: "${tls.ca}"`,
        '  verify: true',
        '}',
        'authorization { user: bridge, password: "tls-pw" }',
        '',
      ].join('\n'),
    });
    await using db = await freshDatabase('sectls');
    using ws = workspace();
    await createCounters(db.url, 10);
    await expectCaptures(
      config(ws, nats.url, db.url, `user: bridge\npassword: tls-pw\ntls: { ca: ${tls.ca}, cert: ${tls.clientCert}, key: ${tls.clientKey} }`),
    );
    using noCa = workspace();
    await expectRefused(config(noCa, nats.url, db.url, `user: bridge\npassword: tls-pw\ntls: { cert: ${tls.clientCert}, key: ${tls.clientKey} }`), /NATS at nats:\/\/127\.0\.0\.1:\d+: TLS/);
    using missing = workspace();
    const { code, stderr } = await runCli(
      ['run', '-c', config(missing, nats.url, db.url, `user: bridge\npassword: tls-pw\ntls: { ca: ./no-such-ca.pem }`)],
      LOG_LEVEL,
    );
    expect(stderr).toMatch(/nats\.tls\.ca: cannot read .*no-such-ca\.pem \(ENOENT\)/);
    expect(code).toBe(2);
  }, 180_000);
});
