import { startBridgeProcess, type BridgeProcess } from './bridge.ts';

/** The `http:` block of a test config: loopback, a free port, and the admin token if given. */
export function httpConfig(token?: string): string {
  return `http: { host: 127.0.0.1, port: 0${token === undefined ? '' : `, token: ${token}`} }`;
}

export interface HttpBridge extends BridgeProcess {
  /** Where its HTTP API and console listen. */
  readonly base: string;
}

/**
 * `hms-sync run -c configPath` (the config has an `http:` block), resolved once its HTTP server
 * listens and its capture streams; killed if either does not happen.
 */
export async function startHttpBridge(configPath: string, what = 'the bridge'): Promise<HttpBridge> {
  const bridge = startBridgeProcess(['run', '-c', configPath]);
  try {
    const base = await httpBaseUrl(bridge);
    await bridge.waitForOutput(/streaming changes/, `${what} to stream`);
    return Object.assign(bridge, { base });
  } catch (error) {
    await bridge.kill();
    throw error;
  }
}

/** The base URL a bridge printed when its HTTP server started (`http: { port: 0 }` picks a free port). */
export async function httpBaseUrl(bridge: BridgeProcess, timeoutMs = 30_000): Promise<string> {
  await bridge.waitForOutput(/HTTP API and console on http:\/\/[^\s"]+/, 'the HTTP server to listen', timeoutMs);
  const match = /HTTP API and console on (http:\/\/[^\s"]+)/.exec(bridge.output());
  if (!match) throw new Error('HTTP URL not found in the bridge output');
  return match[1]!;
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
}

/** fetch() returning status and parsed JSON (or the text where the body is not JSON). */
export async function requestJson<T = any>(url: string, init: RequestInit & { token?: string; json?: unknown } = {}): Promise<JsonResponse<T>> {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const response = await fetch(url, { ...init, headers, body, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed as T };
}

/** The entry of GET /api/sources for one source (undefined when it is not listed). */
export async function apiSource<T = any>(base: string, name: string): Promise<T | undefined> {
  const { body } = await requestJson<Array<T & { name: string }>>(`${base}/api/sources`);
  return body.find((source) => source.name === name);
}
