export * from './envelope.ts';
export * from './key-token.ts';
