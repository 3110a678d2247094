import { createHmac } from 'node:crypto';
import type { Envelope } from '../../envelope/index.ts';
import { errorMessage } from '../../errors.ts';
import { redactUrl } from '../../util/secrets.ts';
import type { SubscriberSink } from './index.ts';

export interface WebhookOptions {
  url: string;
  /** HMAC-SHA256 key: each request carries `hms-sync-signature: sha256=<hex of the body's HMAC>`. */
  secret?: string;
  timeoutMs: number;
}

/** `sha256=<hex>`: the HMAC-SHA256 of the exact body bytes sent. */
export function signBody(secret: string, body: Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * POSTs the envelope exactly as it was published (so a signature over the body verifies
 * against the bytes the receiver got); any 2xx is delivered, anything else an error saying
 * what came back.
 */
export class WebhookSink implements SubscriberSink {
  private readonly where: string;

  constructor(private readonly options: WebhookOptions) {
    this.where = redactUrl(options.url);
  }

  async deliver(envelope: Envelope, raw: Uint8Array, signal?: AbortSignal): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'hms-sync-id': envelope.id,
      'hms-sync-op': envelope.op,
    };
    if (this.options.secret !== undefined) headers['hms-sync-signature'] = signBody(this.options.secret, raw);
    const response = await this.request('POST', headers, raw, signal);
    const text = await response.text().catch(() => '');
    if (response.status < 200 || response.status > 299) {
      throw new Error(`HTTP ${response.status} from ${this.where}${text ? `: ${text.slice(0, 200)}` : ''}`);
    }
  }

  /** Any HTTP answer means the receiver is there; only no answer (refused, timeout) fails. */
  async check(signal?: AbortSignal): Promise<void> {
    const response = await this.request('HEAD', {}, undefined, signal);
    await response.arrayBuffer().catch(() => undefined);
  }

  async close(): Promise<void> {}

  private async request(method: string, headers: Record<string, string>, body: Uint8Array | undefined, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    try {
      return await fetch(this.options.url, {
        method,
        headers,
        ...(body !== undefined && { body }),
        redirect: 'manual',
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
    } catch (error) {
      if (timeout.aborted) throw new Error(`${method} ${this.where}: no answer within ${this.options.timeoutMs} ms`);
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`${method} ${this.where}: ${cause?.code ?? cause?.message ?? errorMessage(error)}`);
    }
  }
}
