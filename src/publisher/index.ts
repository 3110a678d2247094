export * from './jetstream-publisher.ts';
export * from './stream.ts';
