import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { uniqueName } from '../../support/context.ts';
import { startBridgeProcess, workspace } from '../../support/bridge.ts';
import { httpBaseUrl, requestJson } from '../../support/http.ts';
import { readStream } from '../../support/stream.ts';

const INSPECTIONS = `
table: vendor.inspections
entity: inspection
key: [inspection_ref]
fields:
  inspectionId: { from: inspection_ref, type: string, trim: true }
  bridgeId:     { from: structureNo, type: string }
  nextDate:     { from: next_due, type: date }
  inspectedAt:  { from: inspected_at, type: timestamp }
  rating:       { from: rating, type: integer }
  cost:         { from: cost_usd, type: decimal }
  urgent:       { from: urgent, type: boolean }
  status:       { from: state, codes: { O: open, C: closed }, default: unknown }
  details:      { from: details, type: json }
  note:         { from: note, type: string }
unmapped: ignore
`;

const CONTACTS = `
table: crm.contacts
entity: contact
key: [id]
fields:
  contactId: { from: id, type: bigint }
  name:      { from: full_name, type: string }
`;

const SECRET = 'whsec-0123456789';
const TOKEN = 'crm-token-abc';
const API_TOKEN = 'api-token';

function sign(body: string, secret = SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

async function post(url: string, body: string, headers: Record<string, string>) {
  return requestJson(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

describe('inbound webhooks', () => {
  it('round-trips a vendor payload to an envelope, and rejects bad signatures, tokens, fields and replayed keys as documented', async () => {
    using ws = workspace();
    const id = uniqueName('whk');
    const stream = `T_${id}`.toUpperCase();
    const prefix = `t.${id}`;
    ws.write('mappings/vendor/INSPECTIONS.yaml', INSPECTIONS);
    ws.write('mappings/crm/CONTACTS.yaml', CONTACTS);
    const configPath = ws.write(
      'hms-sync.yaml',
      [
        'nats:',
        `  servers: ${inject('natsUrl')}`,
        `  stream: ${stream}`,
        `  subjectPrefix: ${prefix}`,
        `  offsetsBucket: offsets_${id}`,
        'sources:',
        '  - name: vendor',
        '    kind: webhook',
        '    webhook: { secret: ${VENDOR_SECRET} }',
        '  - name: crm',
        '    kind: webhook',
        '    webhook: { token: ${CRM_TOKEN}, idempotencyHeader: X-Request-Id }',
        `http: { host: 127.0.0.1, port: 0, token: ${API_TOKEN} }`,
        '',
      ].join('\n'),
    );
    await using bridge = startBridgeProcess(['run', '-c', configPath], { VENDOR_SECRET: SECRET, CRM_TOKEN: TOKEN });
    const base = await httpBaseUrl(bridge);

    const sources = await requestJson(`${base}/api/sources`);
    expect(sources.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'vendor', kind: 'webhook', state: 'online', paused: false }),
        expect.objectContaining({ name: 'crm', kind: 'webhook', state: 'online' }),
      ]),
    );
    expect(JSON.stringify(sources.body)).not.toContain(SECRET);

    // A vendor record, in the vendor's own field names; numbers exactly as sent.
    const payload =
      '{"inspection_ref": " INS-77 ", "structureNo": "B-1042", "next_due": "2024-09-02", "inspected_at": "2024-03-01T14:05:06.250-06:00", ' +
      '"rating": 7, "cost_usd": 12345678901234.10, "urgent": true, "state": "O", "details": {"deck": 6, "notes": ["rust"]}, "note": null, "extra_vendor_field": 1}';
    const url = `${base}/webhook/vendor/inspection`;
    const accepted = await post(url, payload, { 'x-hms-signature': sign(payload), 'idempotency-key': 'evt-1' });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ id: expect.stringMatching(/^[0-9a-f]{32}$/), position: expect.stringMatching(/^\d{13}-[0-9A-F]{8}$/) });
    // 202 only once JetStream has it: read it right away.
    const stored = await readStream(inject('natsUrl'), stream, `${prefix}.vendor.inspection.>`);
    expect(stored).toHaveLength(1);
    const envelope = stored[0]!;
    expect(envelope.subject).toBe(`${prefix}.vendor.inspection.INS-77`);
    expect(envelope.msgId).toBe(accepted.body.id);
    expect(envelope.op).toBe('u');
    expect(envelope.body).toMatchObject({
      id: accepted.body.id,
      op: 'u',
      entity: 'inspection',
      key: { inspectionId: 'INS-77' },
      before: null,
      after: {
        inspectionId: 'INS-77',
        bridgeId: 'B-1042',
        nextDate: '2024-09-02',
        inspectedAt: '2024-03-01T20:05:06.250Z',
        rating: 7,
        cost: '12345678901234.10',
        urgent: true,
        status: 'open',
        details: { deck: 6, notes: ['rust'] },
        note: null,
      },
      source: { name: 'vendor', kind: 'webhook', table: 'vendor.inspections', capture: 'webhook', position: accepted.body.position },
    });
    expect(Object.keys(envelope.body.after)).toEqual(['inspectionId', 'bridgeId', 'nextDate', 'inspectedAt', 'rating', 'cost', 'urgent', 'status', 'details', 'note']);

    // The same idempotency key again (a vendor retry): recognised, not published twice.
    const replay = await post(url, payload, { 'x-hms-signature': sign(payload), 'idempotency-key': 'evt-1' });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ duplicate: true, id: accepted.body.id, position: accepted.body.position });
    // Even with another body: the key is what identifies the change.
    const changedBody = payload.replace('"rating": 7', '"rating": 8');
    expect((await post(url, changedBody, { 'x-hms-signature': sign(changedBody), 'idempotency-key': 'evt-1' })).body.duplicate).toBe(true);

    // Authentication: the source's own HMAC signature.
    const badSignature = await post(url, payload, { 'x-hms-signature': sign(payload, 'wrong-secret'), 'idempotency-key': 'evt-2' });
    expect(badSignature).toEqual({ status: 401, body: { error: 'bad signature' } });
    const tampered = await post(url, payload.replace('B-1042', 'B-9999'), { 'x-hms-signature': sign(payload), 'idempotency-key': 'evt-2' });
    expect(tampered.status).toBe(401);
    const unsigned = await post(url, payload, { 'idempotency-key': 'evt-2' });
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error).toMatch(/missing x-hms-signature/);
    // The API token is not a webhook credential.
    expect((await post(url, payload, { authorization: `Bearer ${API_TOKEN}`, 'idempotency-key': 'evt-2' })).status).toBe(401);

    // Validation: a bad value names the field; a missing key field too; nothing is published.
    const badDate = payload.replace('2024-09-02', '2024-02-31');
    const badField = await post(url, badDate, { 'x-hms-signature': sign(badDate), 'idempotency-key': 'evt-3' });
    expect(badField.status).toBe(400);
    expect(badField.body.error).toBe('field nextDate (column next_due): invalid date "2024-02-31" (expected YYYY-MM-DD)');
    const badNumber = payload.replace('"rating": 7', '"rating": 7.5');
    expect((await post(url, badNumber, { 'x-hms-signature': sign(badNumber), 'idempotency-key': 'evt-3' })).body.error).toMatch(/^field rating \(column rating\): "7.5" is not an integer/);
    const noKey = payload.replace('"inspection_ref": " INS-77 ", ', '');
    const missingKey = await post(url, noKey, { 'x-hms-signature': sign(noKey), 'idempotency-key': 'evt-3' });
    expect(missingKey).toEqual({ status: 400, body: { error: 'field inspectionId (inspection_ref): missing from the body (a key field)' } });
    const notJson = '{"inspection_ref": ';
    expect((await post(url, notJson, { 'x-hms-signature': sign(notJson), 'idempotency-key': 'evt-3' })).body.error).toMatch(/^bad JSON body/);
    expect((await post(url, payload, { 'x-hms-signature': sign(payload) })).body.error).toBe('missing idempotency-key header');
    expect((await post(url, payload, { 'x-hms-signature': sign(payload), 'idempotency-key': 'evt-3', 'x-hms-op': 'z' })).status).toBe(400);
    // A key refused before is not used up: the corrected request goes through.
    const fixed = payload.replace('2024-09-02', '2024-10-01');
    const second = await post(url, fixed, { 'x-hms-signature': sign(fixed), 'idempotency-key': 'evt-3', 'x-hms-op': 'u' });
    expect(second.status).toBe(202);
    expect(second.body.position > accepted.body.position).toBe(true);

    // A delete needs only the key fields.
    const deleteBody = '{"inspection_ref": "INS-77"}';
    const deleted = await post(url, deleteBody, { 'x-hms-signature': sign(deleteBody), 'idempotency-key': 'evt-4', 'x-hms-op': 'd' });
    expect(deleted.status).toBe(202);
    const afterDelete = await readStream(inject('natsUrl'), stream, `${prefix}.vendor.inspection.>`);
    expect(afterDelete.map((m) => m.body.op)).toEqual(['u', 'u', 'd']);
    expect(afterDelete[2]!.body).toMatchObject({ op: 'd', key: { inspectionId: 'INS-77' }, before: null, after: null });

    // A token source: bearer token, its own idempotency header; unknown entity and source are 404.
    const crmUrl = `${base}/webhook/crm/contact`;
    const contact = '{"id": 90071992547409930, "full_name": "Ada"}';
    expect((await post(crmUrl, contact, { 'x-request-id': 'r1' })).status).toBe(401);
    expect((await post(crmUrl, contact, { authorization: 'Bearer nope', 'x-request-id': 'r1' })).body.error).toBe('wrong bearer token');
    const crmAccepted = await post(crmUrl, contact, { authorization: `Bearer ${TOKEN}`, 'x-request-id': 'r1' });
    expect(crmAccepted.status).toBe(202);
    const contacts = await readStream(inject('natsUrl'), stream, `${prefix}.crm.contact.>`);
    expect(contacts.map((m) => m.body.after)).toEqual([{ contactId: '90071992547409930', name: 'Ada' }]);
    expect((await post(`${base}/webhook/crm/nope`, contact, { authorization: `Bearer ${TOKEN}`, 'x-request-id': 'r2' })).status).toBe(404);
    expect((await post(`${base}/webhook/nope/contact`, contact, { 'x-request-id': 'r2' })).status).toBe(404);

    const after = await requestJson(`${base}/api/sources`);
    expect(after.body.find((s: any) => s.name === 'vendor')).toMatchObject({ envelopes: 3, position: deleted.body.position });
    expect(await bridge.stop()).toBe(0);
  });
});
