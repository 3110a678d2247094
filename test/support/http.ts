import type { BridgeProcess } from './bridge.ts';

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
