export { runDemo, type DemoOutput } from './demo.ts';
export { DEFAULT_PORT, DEFAULT_RATE, parseDemoOptions, type DemoOptions } from './options.ts';
