import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DeliveryLog,
  backoffDelayMs,
  filterSubject,
  latencyMs,
  parseSubscriberBody,
  signBody,
  subscriberNames,
  takes,
} from '../../../src/subscribers/index.ts';
import { subscriberView } from '../../../src/subscribers/spec.ts';

describe('back-off', () => {
  const backoff = { initialMs: 100, maxMs: 1_000 };
  it('doubles per attempt up to the cap, with half of it random', () => {
    expect([1, 2, 3, 4, 5, 9].map((a) => backoffDelayMs(a, backoff, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 3, 4, 5].map((a) => backoffDelayMs(a, backoff, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect(backoffDelayMs(1000, backoff, () => 0.5)).toBe(750);
  });
});

describe('POST /api/subscribers body', () => {
  const base = { id: 'cloud-db', type: 'webhook', endpoint: 'http://127.0.0.1:9/hook', topics: ['inspection'] };
  it('fills the defaults', () => {
    const parsed = parseSubscriberBody(base);
    expect(parsed.ok && parsed.spec).toMatchObject({
      id: 'cloud-db', type: 'webhook', topics: ['inspection'], maxAttempts: 8, from: 'next', timeoutMs: 10_000, heartbeatMs: 30_000,
      backoff: { initialMs: 1_000, maxMs: 60_000 }, origin: 'api',
    });
  });
  it('reads durations and the secret', () => {
    const parsed = parseSubscriberBody({ ...base, from: 'start', secret: 's', timeout: '2s', heartbeat: '250ms', backoff: { initial: '100ms', max: '1s' }, maxAttempts: 3 });
    expect(parsed.ok && parsed.spec).toMatchObject({ from: 'start', secret: 's', timeoutMs: 2000, heartbeatMs: 250, backoff: { initialMs: 100, maxMs: 1000 }, maxAttempts: 3 });
  });
  it.each([
    [{ ...base, type: 'ftp' }, 'type: unknown type "ftp" (expected webhook or postgres)'],
    [{ ...base, topics: [] }, 'topics: expected a non-empty list'],
    [{ ...base, topics: ['Bad Name'] }, 'topics[0]: a topic is an entity name ([a-z0-9_]+) or "*"'],
    [{ ...base, id: undefined }, 'id: missing required key'],
    [{ ...base, id: 'a b' }, 'id: a subscriber id must match [A-Za-z0-9_-]{1,64}'],
    [{ ...base, maxAttempts: 'lots' }, 'maxAttempts: expected number, got a string'],
    [{ ...base, extra: 1 }, 'extra: unknown key'],
    [{ ...base, type: 'postgres', secret: 'x', endpoint: 'postgres://u@127.0.0.1/db' }, 'secret: only a webhook subscriber signs its requests'],
    [{ ...base, backoff: { initial: '2s', max: '1s' } }, 'backoff.max: must not be shorter than backoff.initial'],
    ['text', 'body: expected a JSON object such as {"id": "...", "type": "webhook", "endpoint": "...", "topics": ["..."]}'],
  ])('refuses %j: %s', (body, message) => {
    const parsed = parseSubscriberBody(body);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problems).toContain(message);
  });
  it('names a bad endpoint for its type', () => {
    const parsed = parseSubscriberBody({ ...base, endpoint: 'postgres://x@h/db' });
    expect(!parsed.ok && parsed.problems[0]).toMatch(/^endpoint: expected an http:\/\/ or https:\/\/ URL/);
  });
  it('never shows the secret or the password', () => {
    const parsed = parseSubscriberBody({ ...base, type: 'postgres', endpoint: 'postgres://writer:pa55word@127.0.0.1/copy' });
    if (!parsed.ok) throw new Error(parsed.problems.join());
    const view = subscriberView({ ...parsed.spec, secret: 'hush' }, { state: 'online', since: 'now', delivered: 0, dead: 0, failedAttempts: 0 }, subscriberNames('HMS_SYNC', 'hms.sync'));
    expect(JSON.stringify(view)).not.toMatch(/pa55word|hush/);
    expect(view).toMatchObject({ signed: true, consumer: 'hms_sub_cloud-db', deadLetterSubject: 'hms.sync_subscribers.cloud-db.dlq' });
  });
});

describe('subjects', () => {
  it('names the subscriber stream, bucket and subjects outside the bridge stream', () => {
    const names = subscriberNames('HMS_SYNC', 'hms.sync');
    expect([names.subscriberStream, names.bucket, names.deadLetter('a'), names.audit('a'), names.status('a')]).toEqual([
      'HMS_SYNC_SUBSCRIBERS', 'hms_sync_subscribers', 'hms.sync_subscribers.a.dlq', 'hms.sync_subscribers.a.audit', 'hms.sync_subscribers.a.status',
    ]);
  });
  it('filters one topic on the server, several in process', () => {
    expect(filterSubject('hms.sync', ['inspection'])).toBe('hms.sync.*.inspection.>');
    expect(filterSubject('hms.sync', ['a', 'b'])).toBe('hms.sync.>');
    expect(filterSubject('hms.sync', ['*'])).toBe('hms.sync.>');
  });
  it('takes envelopes of its topics only, never dead letters or status', () => {
    expect(takes('hms.sync', ['*'], 'hms.sync.fhwa.inspection.B-1')).toBe(true);
    expect(takes('hms.sync', ['crew'], 'hms.sync.fhwa.inspection.B-1')).toBe(false);
    expect(takes('hms.sync', ['crew', 'inspection'], 'hms.sync.fhwa.inspection._truncate')).toBe(true);
    expect(takes('hms.sync', ['*'], 'hms.sync.fhwa.dlq.inspection')).toBe(false);
    expect(takes('hms.sync', ['*'], 'hms.sync.fhwa.status')).toBe(false);
    expect(takes('hms.sync', ['*'], 'hms.other.fhwa.x.y')).toBe(false);
  });
});

describe('delivery log', () => {
  it('keeps one record per envelope and subscriber, newest first, bounded', () => {
    const log = new DeliveryLog(3);
    const rec = (sub: string, id: string, status: 'pending' | 'delivered', attempts: number) =>
      ({ sub, id, subject: 's', entity: 'e', op: 'c', position: 'p', status, attempts, latencyMs: status === 'delivered' ? 5 : null, at: 'now' }) as const;
    log.record(rec('a', '1', 'pending', 1));
    log.record(rec('a', '2', 'delivered', 1));
    log.record(rec('a', '1', 'delivered', 2));
    expect(log.latest(10).map((r) => `${r.id}:${r.status}:${r.attempts}`)).toEqual(['1:delivered:2', '2:delivered:1']);
    log.record(rec('b', '1', 'delivered', 1));
    log.record(rec('b', '2', 'delivered', 1));
    expect(log.latest(10).map((r) => `${r.sub}${r.id}`)).toEqual(['b2', 'b1', 'a1']);
    expect(log.latest(1)).toHaveLength(1);
    expect(log.latest(10, 'a').map((r) => r.id)).toEqual(['1']);
  });
  it('measures latency from the commit, else from the envelope time', () => {
    expect(latencyMs(Date.parse('2026-01-01T00:00:01.500Z'), '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z')).toBe(1500);
    expect(latencyMs(Date.parse('2026-01-01T00:00:01.500Z'), null, '2026-01-01T00:00:01.000Z')).toBe(500);
    expect(latencyMs(0, null, undefined)).toBeNull();
  });
});

describe('webhook signature', () => {
  it('is the HMAC-SHA256 of the exact body', () => {
    const body = new TextEncoder().encode('{"id":"x"}');
    expect(signBody('k', body)).toBe(`sha256=${createHmac('sha256', 'k').update('{"id":"x"}').digest('hex')}`);
  });
});
