export * from './kv-offset-store.ts';
