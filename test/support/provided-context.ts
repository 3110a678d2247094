// What test/global-setup.ts hands to every test file through vitest's provide/inject.
export interface SharedServers {
  /** Superuser URL of the shared PostgreSQL's `postgres` database. */
  pgSuperuserUrl: string;
  pgPort: number;
  /** nats://127.0.0.1:PORT of the shared nats-server (JetStream enabled). */
  natsUrl: string;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface ProvidedContext extends SharedServers {}
}
