export * from './memory.js';
export * from './bus.js';
export * from './irq.js';
export * from './clock.js';
export * from './snapshot.js';
export * from './device.js';
export * from './schema.js';
export { Type } from '@sinclair/typebox';
export type { Static, TSchema } from '@sinclair/typebox';
export * from './cpu.js';
export * from './capabilities.js';
export * from './backend.js';
export * from './host.js';

export * from './standalone-backend.js';
export * from './seeded-random.js';
