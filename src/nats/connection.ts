import { connect, type NatsConnection } from '@nats-io/transport-node';
import { HmsSyncError, errorMessage } from '../errors.ts';

export interface NatsConnectOptions {
  servers: string[];
  user?: string;
  password?: string;
  token?: string;
  name?: string;
  /** Keep trying the first connection too (run); false for one-shot commands (doctor, lint). */
  waitOnFirstConnect?: boolean;
}

/** Reconnects forever: a NATS outage pauses capture (back-pressure), it never ends it. */
export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  try {
    return await connect({
      servers: options.servers,
      name: options.name ?? 'hms-sync',
      ...(options.user !== undefined ? { user: options.user, pass: options.password } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      reconnectJitter: 250,
      pingInterval: 10_000,
      waitOnFirstConnect: options.waitOnFirstConnect ?? false,
      timeout: 5_000,
    });
  } catch (error) {
    throw new HmsSyncError('NATS', `cannot connect to NATS at ${options.servers.join(', ')}: ${errorMessage(error)}`, {
      cause: error,
      retryable: true,
    });
  }
}

/** Largest envelope body we publish: the server's max_payload less room for the headers. */
export function payloadLimit(nc: { info?: { max_payload: number } }): number | undefined {
  return nc.info ? nc.info.max_payload - 1024 : undefined;
}
