import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { NatsConfig } from '../config/index.ts';
import { HmsSyncError, errorMessage } from '../errors.ts';

export interface NatsConnectOptions {
  servers: string[];
  user?: string;
  password?: string;
  token?: string;
  /** Absolute path of a .creds file (user JWT + NKey seed). */
  creds?: string;
  /** Absolute paths: the CA to trust, and a client certificate and key where the server asks for one. */
  tls?: { ca?: string; cert?: string; key?: string };
  name?: string;
  /** Keep trying the first connection too (run); false for one-shot commands (doctor, lint). */
  waitOnFirstConnect?: boolean;
}

/** The credentials and TLS settings of the config's `nats:` block, for connectNats. */
export function natsSecurityOptions(nats: NatsConfig): Pick<NatsConnectOptions, 'user' | 'password' | 'token' | 'creds' | 'tls'> {
  return {
    ...(nats.user !== undefined && { user: nats.user, password: nats.password ?? '' }),
    ...(nats.token !== undefined && { token: nats.token }),
    ...(nats.creds !== undefined && { creds: nats.creds }),
    ...(nats.tls !== undefined && { tls: nats.tls }),
  };
}

/**
 * Reconnects forever: a NATS outage pauses capture (back-pressure), it never ends it. A
 * rejected credential or a failed TLS handshake is not an outage: it ends the connect with
 * one line that names the servers and what is wrong.
 */
export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  const where = `NATS at ${options.servers.join(', ')}`;
  let connectOptions: NodeConnectionOptions;
  try {
    connectOptions = {
      servers: options.servers,
      name: options.name ?? 'hms-sync',
      ...(options.user !== undefined ? { user: options.user, pass: options.password } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.creds !== undefined ? { authenticator: credsAuthenticator(readFileSync(readable(options.creds, 'nats.creds'))) } : {}),
      ...(options.tls !== undefined
        ? {
            tls: {
              ...(options.tls.ca !== undefined && { caFile: readable(options.tls.ca, 'nats.tls.ca') }),
              ...(options.tls.cert !== undefined && { certFile: readable(options.tls.cert, 'nats.tls.cert') }),
              ...(options.tls.key !== undefined && { keyFile: readable(options.tls.key, 'nats.tls.key') }),
            },
          }
        : {}),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      reconnectJitter: 250,
      pingInterval: 10_000,
      waitOnFirstConnect: options.waitOnFirstConnect ?? false,
      timeout: 5_000,
    };
  } catch (error) {
    throw new HmsSyncError('CONFIG', `${where}: ${errorMessage(error)}`, { cause: error });
  }
  const problem = credentialProblem(options);
  const failure = (error: unknown): HmsSyncError => {
    const security = securityProblem(error, problem);
    if (security !== undefined) return new HmsSyncError('NATS', `cannot connect to ${where}: ${security}`, { cause: error, retryable: false });
    return new HmsSyncError('NATS', `cannot connect to ${where}: ${errorMessage(error)}`, { cause: error, retryable: true });
  };
  // One plain try first: waitOnFirstConnect retries a failed TLS handshake as silently as a
  // refused connection, so a wrong CA would look like a server that never comes up.
  try {
    return await connect({ ...connectOptions, waitOnFirstConnect: false });
  } catch (error) {
    const first = failure(error);
    if (!first.retryable || !connectOptions.waitOnFirstConnect) throw first;
  }
  try {
    return await connect(connectOptions);
  } catch (error) {
    throw failure(error);
  }
}

function readable(file: string, key: string): string {
  try {
    readFileSync(file);
  } catch (error) {
    throw new Error(`${key}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)})`);
  }
  return file;
}

function credentialProblem(options: NatsConnectOptions): string {
  if (options.creds !== undefined) return `the server rejected the credentials in ${options.creds} (nats.creds)`;
  if (options.token !== undefined) return 'the server rejected the token (nats.token)';
  if (options.user !== undefined) return `the server rejected user "${options.user}" or its password (nats.user / nats.password)`;
  return 'the server requires credentials and none are configured (nats.user / nats.password, nats.token or nats.creds)';
}

/** A credential or TLS failure, in words; undefined for anything else (an outage: retry). */
function securityProblem(error: unknown, credentials: string): string | undefined {
  const text = chain(error);
  if (/authorization violation|authentication|user authentication expired|authorization/i.test(text)) return credentials;
  if (/self[- ]signed|unable to verify|certificate|CERT_|UNABLE_TO_GET_ISSUER|ERR_TLS|wrong version number|handshake/i.test(text)) {
    return `TLS handshake failed (${firstLine(text)}); check nats.tls.ca / cert / key and the server's certificate`;
  }
  if (/tls required|requires tls|server does not support tls|secure connection|TLS/.test(text)) {
    return `TLS settings do not match the server's (${firstLine(text)}); set nats.tls (or a tls:// URL) to what the server expects`;
  }
  return undefined;
}

function chain(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    parts.push(errorMessage(current));
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(': ');
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 200);
}

/** Largest envelope body we publish: the server's max_payload less room for the headers. */
export function payloadLimit(nc: { info?: { max_payload: number } }): number | undefined {
  return nc.info ? nc.info.max_payload - 1024 : undefined;
}
