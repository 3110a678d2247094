// A webhook receiver on 127.0.0.1 that a test can switch between accepting, failing (HTTP 503)
// and down (the port closed, so connections are refused), and a bridge with an HTTP API.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inject } from 'vitest';
import { startBridgeProcess, writeBridgeFiles, type BridgeProcess, type BridgeSetup, type Workspace } from '../../support/bridge.ts';
import { httpBaseUrl } from '../../support/http.ts';

export const TOKEN = 'sub-test-token';

export interface Received {
  body: any;
  raw: Buffer;
  headers: IncomingMessage['headers'];
}

export interface WebhookReceiver extends AsyncDisposable {
  readonly url: string;
  readonly received: Received[];
  /** POSTs answered 2xx. */
  readonly accepted: Received[];
  mode: 'accept' | 'fail';
  /** Closes the port (connections refused) until up(). */
  down(): Promise<void>;
  up(): Promise<void>;
  requests: number;
  heads: number;
}

export async function webhookReceiver(): Promise<WebhookReceiver> {
  let server: Server | undefined;
  let port = 0;
  const receiver = {
    url: '',
    received: [] as Received[],
    accepted: [] as Received[],
    mode: 'accept' as 'accept' | 'fail',
    requests: 0,
    heads: 0,
    async down() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); });
    },
    async up() {
      if (server) return;
      server = createServer((request, response) => {
        if (request.method === 'HEAD') {
          receiver.heads += 1;
          response.writeHead(200).end();
          return;
        }
        const chunks: Buffer[] = [];
        request.on('data', (c: Buffer) => chunks.push(c));
        request.on('end', () => {
          receiver.requests += 1;
          const raw = Buffer.concat(chunks);
          const item = { raw, body: JSON.parse(raw.toString('utf8')), headers: request.headers };
          receiver.received.push(item);
          if (receiver.mode === 'fail') {
            response.writeHead(503, { 'content-type': 'text/plain' }).end('not today');
            return;
          }
          receiver.accepted.push(item);
          response.writeHead(204).end();
        });
      });
      server.keepAliveTimeout = 1000;
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', () => r()));
      port = (server.address() as AddressInfo).port;
      receiver.url = `http://127.0.0.1:${port}/hook`;
    },
    async [Symbol.asyncDispose]() {
      await receiver.down();
    },
  };
  await receiver.up();
  return receiver;
}

/** A receiver whose port is closed from the start: a free port nobody listens on. */
export async function deadEndpoint(): Promise<string> {
  const r = await webhookReceiver();
  const url = r.url;
  await r.down();
  return url;
}

export const CREWS_MAPPING = `
table: public.crews
entity: crew
key: [CREW_ID]
fields:
  crewId: { from: CREW_ID, type: string, trim: true }
  name: { from: NAME, type: string }
  size: { from: SIZE, type: integer }
`;

export interface RunningBridge {
  bridge: BridgeProcess;
  base: string;
  setup: BridgeSetup;
}

export async function startSubscriberBridge(
  ws: Workspace,
  options: { id: string; dbUrl: string; subscribers?: string; mappings?: Record<string, string>; configPath?: string },
): Promise<RunningBridge> {
  const setup = writeBridgeFiles(ws, {
    natsUrl: inject('natsUrl'),
    id: options.id,
    source: { name: 'fhwa', url: options.dbUrl },
    mappings: options.mappings ?? { 'CREWS.yaml': CREWS_MAPPING },
    top: [`http: { host: 127.0.0.1, port: 0, token: ${TOKEN} }`, ...(options.subscribers ? [options.subscribers] : [])].join('\n'),
  });
  const bridge = startBridgeProcess(['run', '-c', setup.configPath]);
  const base = await httpBaseUrl(bridge);
  await bridge.waitForOutput(/streaming changes/, 'the bridge to stream');
  return { bridge, base, setup };
}
