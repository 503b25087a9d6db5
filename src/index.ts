/**
 * faultline: error recovery for Node.js services and workers.
 * The core entry point: no runtime dependencies.
 */
export * from './time/index.js';
export * from './faults/index.js';
export * from './recovery/index.js';
export * from './observe/index.js';
export * from './policies/index.js';
export * from './health/index.js';
export * from './lifecycle/index.js';
export * from './durable/index.js';
export * from './stores/index.js';
export * from './config/index.js';
export { asyncDispose } from './dispose/async-dispose.js';
