// docker/compose.yaml and docker/Dockerfile: the services a user expects, commands that turn on
// what capture needs, and a bridge config whose hosts and ports are the compose services'.
// `docker compose config` (no engine needed) runs where the compose CLI plugin exists.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../src/config/index.ts';
import { loadMappingDir } from '../../../src/mapping/index.ts';

const DOCKER = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docker');
const compose = parse(readFileSync(join(DOCKER, 'compose.yaml'), 'utf8')) as {
  services: Record<string, { image?: string; command?: string[]; ports?: string[]; build?: { context: string; dockerfile: string }; volumes?: string[]; environment?: Record<string, string>; depends_on?: Record<string, unknown> }>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;
const hostPorts = (service: string): number[] => (services[service]?.ports ?? []).map((p) => Number(p.split(':')[1]));

describe('docker/compose.yaml', () => {
  it('has every legacy database, NATS with JetStream, and the bridge', () => {
    expect(Object.keys(services).sort()).toEqual(['hms-sync', 'mssql', 'mysql', 'nats', 'oracle', 'postgres']);
    expect(services.postgres!.image).toMatch(/^postgres:15/);
    expect(services.postgres!.command).toContain('wal_level=logical');
    expect(services.mysql!.image).toMatch(/^mysql:8/);
    expect(services.mysql!.command).toEqual(expect.arrayContaining(['--binlog-format=ROW', '--binlog-row-image=FULL', '--gtid-mode=ON', '--enforce-gtid-consistency=ON']));
    expect(services.mssql!.image).toMatch(/^mcr\.microsoft\.com\/mssql\/server/);
    expect(services.mssql!.environment).toMatchObject({ MSSQL_AGENT_ENABLED: 'true', ACCEPT_EULA: 'Y' });
    expect(services.oracle!.image).toMatch(/^gvenzl\/oracle-free/);
    expect(services.nats!.image).toMatch(/^nats:2\.9/);
    expect(services.nats!.command).toContain('-js');
    expect(hostPorts('postgres')).toEqual([5432]);
    expect(hostPorts('mysql')).toEqual([3306]);
    expect(hostPorts('nats')).toContain(4222);
  });

  it('every named volume is declared, every bind-mounted folder exists', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const from = volume.split(':')[0]!;
        if (from.startsWith('.')) expect(existsSync(join(DOCKER, from)), `${name}: ${from}`).toBe(true);
        else expect(Object.keys(compose.volumes ?? {}), `${name}: volume ${from}`).toContain(from);
      }
    }
  });

  it('builds the bridge from docker/Dockerfile and runs it with the mounted config', () => {
    const bridge = services['hms-sync']!;
    expect(bridge.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
    expect(existsSync(join(DOCKER, bridge.build!.context, bridge.build!.dockerfile))).toBe(true);
    expect(bridge.command).toEqual(['run', '-c', '/config/hms-sync.yaml']);
    expect(bridge.volumes).toContain('./config:/config:ro');
    expect(Object.keys(bridge.depends_on ?? {})).toEqual(expect.arrayContaining(['postgres', 'mysql', 'nats']));
  });

  it('the bridge config names compose services and ports, and its mappings load', async () => {
    const bridge = services['hms-sync']!;
    const file = join(DOCKER, 'config', 'hms-sync.yaml');
    const env = Object.fromEntries(Object.entries(bridge.environment ?? {}).map(([k, v]) => [k, v.replace(/^\$\{[A-Z_]+:-(.*)\}$/, '$1')]));
    const config = parseConfig(file, readFileSync(file, 'utf8'), env);
    for (const server of config.nats.servers) {
      const url = new URL(server);
      expect(url.hostname).toBe('nats');
      expect(url.port).toBe('4222');
    }
    for (const source of config.sources) {
      const url = new URL(source.url);
      expect(Object.keys(services), source.name).toContain(url.hostname);
      expect(hostPorts(url.hostname), source.name).toContain(Number(url.port));
      const { mappings, errors } = await loadMappingDir(source.mappings);
      expect(errors.map((e) => e.message)).toEqual([]);
      expect(mappings.length).toBeGreaterThan(0);
    }
    expect(config.http?.host).toBe('0.0.0.0');
    expect(hostPorts('hms-sync')).toContain(config.http!.port);
  });

  it('the Dockerfile compiles in a build stage, ships without dev dependencies and runs as a non-root user', () => {
    const dockerfile = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim AS build$/m);
    expect(dockerfile).toMatch(/node scripts\/build\.mjs && npm prune --omit=dev/);
    // The runtime stage: the pruned node_modules, the sources and their compiled copy.
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^FROM node:20-bookworm-slim$/m);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    // The entrypoint is bin/hms-sync.js run as a program, so its first line's node flags apply
    // (test/unit/runtime/cli-node-flags.test.ts); no NODE_OPTIONS says them a second time.
    expect(runtime).toMatch(/^RUN ln -s \/app\/bin\/hms-sync\.js \/usr\/local\/bin\/hms-sync /m);
    expect(runtime).not.toMatch(/NODE_OPTIONS/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["hms-sync"\]$/m);
    expect(runtime).toMatch(/^CMD \["run", "-c", "\/config\/hms-sync\.yaml"\]$/m);
    // Every path the build context copies exists (no Docker engine here to find out).
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(copied.length).toBeGreaterThan(5);
    for (const path of copied) expect(existsSync(join(DOCKER, '..', path)), path).toBe(true);
  });

  const composeCli = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!composeCli)('passes `docker compose config`', () => {
    const result = spawnSync('docker', ['compose', '-f', join(DOCKER, 'compose.yaml'), 'config', '--quiet'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
