import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../config/index.ts';
import { HmsSyncError, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { FieldType } from '../mapping/types.ts';
import { loadSources } from '../runtime/bridge.ts';
import { DeliveryLog } from './deliveries.ts';
import { SubscriberRegistry } from './registry.ts';
import { SubscriberRunner, type RunnerContext } from './runner.ts';
import type { EntityFieldTypes } from './sinks/index.ts';
import { resolveSpec, sameDelivery, subscriberNames, subscriberView, type SubscriberNames, type SubscriberView } from './spec.ts';
import type { DeliveryRecord, SubscriberSpec } from './types.ts';

export interface SubscriberManagerOptions {
  nc: NatsConnection;
  config: Config;
  log: Logger;
  /** Field types per entity from the bridge's mapping files (typed columns for postgres sinks). */
  fieldTypes?: EntityFieldTypes;
  /** Kept records of GET /api/deliveries. */
  deliveryLogSize?: number;
}

export type AddResult = { ok: true; view: SubscriberView } | { ok: false; status: 409; error: string };
export type RemoveResult = { ok: true } | { ok: false; status: 404 | 409; error: string };

/** `fieldTypes` for SubscriberManagerOptions from loaded mapping files. */
export function fieldTypesOf(mappings: readonly { entity: string; fields: readonly { name: string; type: FieldType }[] }[]): EntityFieldTypes {
  const byEntity = new Map<string, Map<string, FieldType>>();
  for (const mapping of mappings) {
    const fields = byEntity.get(mapping.entity) ?? new Map<string, FieldType>();
    for (const field of mapping.fields) fields.set(field.name, field.type);
    byEntity.set(mapping.entity, fields);
  }
  return (entity) => byEntity.get(entity);
}

/**
 * Owns every subscriber of this bridge process: those of the config file and those
 * registered at run time (KV), one SubscriberRunner each. Changes to the registry made by any
 * process are applied here as they happen; changes are applied one at a time.
 */
export class SubscriberManager {
  private readonly runners = new Map<string, SubscriberRunner>();
  private readonly configured = new Map<string, SubscriberSpec>();
  private readonly registered = new Map<string, SubscriberSpec>();
  private queue: Promise<void> = Promise.resolve();
  private watcher: { stop(): void } | undefined;
  private stopped = false;

  private constructor(
    readonly names: SubscriberNames,
    private readonly ctx: RunnerContext,
    private readonly registry: SubscriberRegistry,
    readonly deliveries: DeliveryLog,
  ) {}

  static async start(options: SubscriberManagerOptions): Promise<SubscriberManager> {
    const { nc, config, log } = options;
    const names = subscriberNames(config.nats.stream, config.nats.subjectPrefix);
    const jsm = await jetstreamManager(nc);
    await ensureSubscriberStream(jsm, names, config.nats.replicas);
    const registry = await SubscriberRegistry.open(nc, names.bucket, config.nats.replicas);
    const deliveries = new DeliveryLog(options.deliveryLogSize);
    const ctx: RunnerContext = {
      nc,
      js: jetstream(nc),
      jsm,
      names,
      log,
      deliveries,
      fieldTypes: options.fieldTypes ?? (() => undefined),
      multipleFilters: serverAtLeast(nc.info?.version, [2, 10]),
    };
    const manager = new SubscriberManager(names, ctx, registry, deliveries);
    for (const subscriber of config.subscribers) manager.configured.set(subscriber.id, resolveSpec(subscriber, 'config'));
    // Watch first, then list: a registration made in between is seen twice, never missed.
    manager.watcher = await registry.watch((id, spec) => manager.enqueue(() => manager.onRegistryChange(id, spec)));
    for (const spec of await registry.list()) manager.registered.set(spec.id, spec);
    await manager.enqueue(async () => {
      for (const id of new Set([...manager.configured.keys(), ...manager.registered.keys()])) await manager.reconcileRunner(id);
    });
    log.info({ subscribers: manager.runners.size, bucket: names.bucket }, `subscribers: ${manager.runners.size} started`);
    return manager;
  }

  list(): SubscriberView[] {
    return [...this.runners.values()].sort((a, b) => a.spec.id.localeCompare(b.spec.id)).map((runner) => subscriberView(runner.spec, runner.counters, this.names));
  }

  view(id: string): SubscriberView | undefined {
    const runner = this.runners.get(id);
    return runner === undefined ? undefined : subscriberView(runner.spec, runner.counters, this.names);
  }

  latestDeliveries(limit: number, sub?: string): DeliveryRecord[] {
    return this.deliveries.latest(limit, sub);
  }

  /** POST /api/subscribers: registers in KV and starts at once (the watch of other processes follows). */
  async add(spec: SubscriberSpec): Promise<AddResult> {
    if (this.configured.has(spec.id)) return { ok: false, status: 409, error: `subscriber ${spec.id} is declared in the config file` };
    if (!(await this.registry.create(spec))) return { ok: false, status: 409, error: `subscriber ${spec.id} already exists (DELETE it first to change it)` };
    await this.enqueue(async () => {
      this.registered.set(spec.id, spec);
      await this.reconcileRunner(spec.id);
    });
    return { ok: true, view: this.view(spec.id)! };
  }

  /** DELETE /api/subscribers/:id: stops it, forgets it, and deletes its durable consumer. */
  async remove(id: string): Promise<RemoveResult> {
    if (this.configured.has(id)) return { ok: false, status: 409, error: `subscriber ${id} is declared in the config file; remove it there` };
    const known = this.registered.has(id) || (await this.registry.get(id)) !== undefined;
    if (!known) return { ok: false, status: 404, error: `no subscriber ${id}` };
    await this.registry.delete(id);
    await this.enqueue(async () => {
      this.registered.delete(id);
      await this.reconcileRunner(id);
    });
    await this.ctx.jsm.consumers.delete(this.names.stream, this.names.consumer(id)).catch((error: unknown) => {
      if (!/consumer not found/i.test(errorMessage(error))) throw error;
    });
    return { ok: true };
  }

  /** SIGTERM: every runner finishes the delivery in flight, then stops. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.watcher?.stop();
    await this.enqueue(async () => {
      await Promise.all([...this.runners.values()].map((runner) => runner.stop()));
      this.runners.clear();
    });
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task);
    this.queue = next.catch((error: unknown) => this.ctx.log.error(`subscribers: ${errorMessage(error)}`));
    return next;
  }

  private async onRegistryChange(id: string, spec: SubscriberSpec | undefined): Promise<void> {
    if (spec === undefined) this.registered.delete(id);
    else this.registered.set(id, spec);
    await this.reconcileRunner(id);
  }

  /** Makes the runner of `id` match what is wanted now: the config's spec, else the registry's. */
  private async reconcileRunner(id: string): Promise<void> {
    if (this.stopped) return;
    const wanted = this.configured.get(id) ?? this.registered.get(id);
    const current = this.runners.get(id);
    if (current !== undefined && wanted !== undefined && sameDelivery(current.spec, wanted)) return;
    if (current !== undefined) {
      await current.stop();
      this.runners.delete(id);
    }
    if (wanted === undefined) return;
    if (wanted.origin === 'api' && this.configured.has(id)) {
      this.ctx.log.warn(`subscriber ${id}: registered at run time and declared in the config file; the config file's wins`);
    }
    const runner = new SubscriberRunner(wanted, this.ctx, async () => {
      if (this.stopped) return false;
      if (this.configured.has(id)) return true;
      return (await this.registry.get(id)) !== undefined;
    });
    this.runners.set(id, runner);
    runner.start();
  }
}

/**
 * `<STREAM>_SUBSCRIBERS` on `<prefix>_subscribers.>`: dead letters, the audit of every attempt
 * and state changes of subscribers. Outside `<prefix>.>`, which belongs to the bridge's stream.
 */
async function ensureSubscriberStream(jsm: JetStreamManager, names: SubscriberNames, replicas: number): Promise<void> {
  const subject = `${names.subscriberPrefix}.>`;
  const existing = await jsm.streams.info(names.subscriberStream).catch((error: unknown) => {
    if (/stream not found/i.test(errorMessage(error))) return undefined;
    throw new HmsSyncError('NATS', `cannot read stream ${names.subscriberStream}: ${errorMessage(error)}`, { cause: error, retryable: true });
  });
  if (existing !== undefined) {
    if (!existing.config.subjects?.includes(subject)) {
      throw new HmsSyncError('CONFIG', `stream ${names.subscriberStream} exists with subjects [${existing.config.subjects?.join(', ')}], not "${subject}"`);
    }
    return;
  }
  try {
    await jsm.streams.add({ name: names.subscriberStream, subjects: [subject], num_replicas: replicas, duplicate_window: 120_000 * 1_000_000 });
  } catch (error) {
    throw new HmsSyncError('NATS', `cannot create stream ${names.subscriberStream} for ${subject}: ${errorMessage(error)}`, { cause: error, retryable: true });
  }
}

function serverAtLeast(version: string | undefined, wanted: [number, number]): boolean {
  const match = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  if (match === null) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > wanted[0] || (major === wanted[0] && minor >= wanted[1]);
}

/** What `run` calls: the manager, with the field types of this bridge's mapping files. */
export async function startSubscribers(nc: NatsConnection, config: Config, log: Logger): Promise<SubscriberManager> {
  const sources = await loadSources(config);
  return SubscriberManager.start({ nc, config, log: log.child({ component: 'subscribers' }), fieldTypes: fieldTypesOf(sources.flatMap((s) => s.mappings)) });
}
