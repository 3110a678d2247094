/**
 * The web console: one static page (src/http/console/), no build step. The files are read
 * once, at registration; the page reads the JSON API like any other client, plus
 * `GET /console/tables`, the mapped tables of each source, for its per-table pause and resume
 * buttons (the API names a source's paused tables, not the ones it could pause).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Mapping } from '../../mapping/types.ts';
import { projectPath } from '../../project-path.ts';
import type { RouteModule } from '../server.ts';

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};

export interface ConsoleRoutesOptions {
  /** Each source's mappings (BridgeHandle.mappings); without it the page shows no per-table buttons. */
  mappings?: ReadonlyMap<string, readonly Pick<Mapping, 'table' | 'entity'>[]>;
}

export function consoleRoutes(options: ConsoleRoutesOptions = {}): RouteModule {
  return async (app: FastifyInstance) => {
    const dir = projectPath('src', 'http', 'console');
    for (const [path, { file, type }] of Object.entries(FILES)) {
      const body = await readFile(join(dir, file));
      app.get(path, async (_request, reply) =>
        reply
          .header('content-type', type)
          .header('cache-control', 'no-cache')
          // Everything the page shows comes from the API as text; no inline script, no other origin.
          .header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
          .header('x-content-type-options', 'nosniff')
          .send(body),
      );
    }
    // The same names the pause API checks a table against (src/control/target.ts).
    const tables = Object.fromEntries(
      [...(options.mappings ?? new Map<string, never[]>())].map(([source, mappings]) => [
        source,
        mappings.map((m) => ({ table: m.table, entity: m.entity })),
      ]),
    );
    app.get('/console/tables', async (_request, reply) => reply.header('cache-control', 'no-cache').send(tables));
  };
}
