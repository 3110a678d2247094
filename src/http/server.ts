import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { HttpConfig } from '../config/index.ts';
import { HmsSyncError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { authenticator, forbidden, type Permission, type Principal } from './auth.ts';

/**
 * One route module: registers its routes on the app. Modules get what they need through their
 * own closure (the bridge handle, the review store, ...), so the server knows none of them.
 */
export type RouteModule = (app: FastifyInstance) => void | Promise<void>;

export interface HttpServerHandle {
  /** Base URL, e.g. http://127.0.0.1:8080 (the real port when 0 was asked for). */
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `none`: the route checks its caller itself (inbound webhooks); default: token on mutating methods. */
    auth?: 'none';
    /**
     * What a scoped token needs for this route. Mutating routes without one take the admin
     * token only. On a GET, it makes the route need a token once scoped tokens are configured
     * (`http.tokens`), so a role's token reads only its own role's objects.
     */
    permission?: Permission;
  }
  interface FastifyRequest {
    /** Who called, when a valid bearer token came with the request. */
    principal?: Principal;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The HTTP API and console (DESIGN.md "HTTP"). Binds to `http.host` (loopback by default);
 * every mutating call needs `Authorization: Bearer <http.token>`, and with no token in the
 * config mutating calls are refused outright rather than left open.
 */
export async function startHttpServer(http: HttpConfig, log: Logger, modules: RouteModule[]): Promise<HttpServerHandle> {
  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024, forceCloseConnections: true });
  const authenticate = authenticator(http);
  const scopedTokens = (http.tokens ?? []).length > 0;

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config;
    if (config?.auth === 'none') return;
    const result = authenticate(request.headers.authorization);
    if ('refusal' in result) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: result.refusal });
    if ('principal' in result) request.principal = result.principal;
    const safe = SAFE_METHODS.has(request.method);
    if (safe && !(scopedTokens && config?.permission !== undefined)) return;
    if (request.principal === undefined) {
      const error =
        http.token === undefined && !scopedTokens
          ? 'mutating calls are disabled: set http.token in the config'
          : 'missing bearer token (Authorization: Bearer <token>)';
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error });
    }
    const refusal = forbidden(request.principal, config?.permission ?? 'admin');
    if (refusal !== undefined) return reply.code(403).send({ error: refusal });
  });

  app.setErrorHandler((error: { statusCode?: number; message: string; code?: string }, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    // Fastify's own 4xx (bad JSON, wrong content type, body too large) keep their status
    // with a message that says what was wrong; anything else is our failure, logged.
    if (status === 500) log.error({ url: request.url, method: request.method }, `HTTP ${request.method} ${request.url}: ${error.message}`);
    const message = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError ? `bad JSON body: ${error.message}` : error.message;
    void reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` });
  });

  for (const module of modules) await app.register(async (scope) => module(scope));

  try {
    await app.listen({ host: http.host, port: http.port });
  } catch (error) {
    await app.close().catch(() => undefined);
    throw new HmsSyncError('CONFIG', `http: cannot listen on ${http.host}:${http.port}: ${errorMessage(error)}`, { cause: error });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : http.port;
  const host = http.host.includes(':') ? `[${http.host}]` : http.host;
  const url = `http://${host}:${port}`;
  log.info({ event: 'http_listening', url }, `HTTP API and console on ${url}`);
  return { url, app, close: () => app.close() };
}
