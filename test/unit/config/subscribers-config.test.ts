import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';

const BASE = `
sources:
  - { name: fhwa, kind: postgres, url: "postgres://reader@127.0.0.1/legacy" }
`;

describe('subscribers: in the config file', () => {
  it('keeps the optional keys only where given, durations in ms', () => {
    const config = parseConfig('/tmp/hms-sync.yaml', `${BASE}subscribers:
  - { id: plain, type: webhook, endpoint: "http://127.0.0.1:9000/hook", topics: [inspection] }
  - id: full
    type: webhook
    endpoint: https://example.org/hook
    topics: ["*"]
    maxAttempts: 3
    from: start
    secret: \${HOOK_SECRET}
    timeout: 2s
    heartbeat: 500ms
    backoff: { initial: 100ms, max: 1s }
  - { id: copy, type: postgres, endpoint: "postgres://writer:pw@127.0.0.1/copy", topics: [inspection, crew] }
`, { HOOK_SECRET: 'hook-secret-1' });
    expect(config.subscribers).toEqual([
      { id: 'plain', type: 'webhook', endpoint: 'http://127.0.0.1:9000/hook', topics: ['inspection'], maxAttempts: 8 },
      {
        id: 'full', type: 'webhook', endpoint: 'https://example.org/hook', topics: ['*'], maxAttempts: 3, from: 'start',
        secret: 'hook-secret-1', timeoutMs: 2000, heartbeatMs: 500, backoff: { initialMs: 100, maxMs: 1000 },
      },
      { id: 'copy', type: 'postgres', endpoint: 'postgres://writer:pw@127.0.0.1/copy', topics: ['inspection', 'crew'], maxAttempts: 8 },
    ]);
    expect(Object.keys(config.subscribers[0]!)).toEqual(['id', 'type', 'endpoint', 'topics', 'maxAttempts']);
  });

  it('names file, line and key of each bad value', () => {
    const text = `${BASE}subscribers:
  - { id: a, type: ftp, endpoint: "http://127.0.0.1/h", topics: [x] }
  - { id: b, type: webhook, endpoint: "http://127.0.0.1/h", topics: [] }
  - { id: c, type: webhook, endpoint: "http://127.0.0.1/h", topics: [x], timeout: 5, from: later }
  - { id: d, type: postgres, endpoint: "postgres://u@h/db", topics: [x], secret: s }
  - { id: d, type: webhook, endpoint: "http://127.0.0.1/h", topics: [x], backoff: { initial: 2s, max: 1s } }
`;
    let message = '';
    try {
      parseConfig('/tmp/hms-sync.yaml', text, {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('/tmp/hms-sync.yaml:5:');
    expect(message).toContain('subscribers[0].type: unknown type "ftp" (expected webhook or postgres)');
    expect(message).toContain('subscribers[1].topics: expected a non-empty list');
    expect(message).toMatch(/subscribers\[2\]\.timeout: expected a duration such as 250ms.*bare number/);
    expect(message).toMatch(/subscribers\[2\]\.from: must be one of next, start/);
    expect(message).toContain('subscribers[3].secret: only a webhook subscriber signs its requests');
    expect(message).toContain('subscribers[4].id: duplicate subscriber id "d" (also subscribers[3])');
    expect(message).toContain('subscribers[4].backoff.max: must not be shorter than backoff.initial');
  });

  it('keeps the secret out of error messages', () => {
    expect(() =>
      parseConfig('/tmp/hms-sync.yaml', `${BASE}subscribers:\n  - { id: a, type: webhook, endpoint: "http://127.0.0.1/h?k=\${S}", topics: [], secret: \${S} }\n`, { S: 'top-secret-77' }),
    ).toThrow(/^(?![\s\S]*top-secret-77)/);
  });
});
