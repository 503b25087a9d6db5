/**
 * faultline/sqlite: the embedded durable store. Loads better-sqlite3 (an optional peer
 * dependency); the core entry point never does.
 */
export type { IntegrityReport } from './integrity.js';
export type { SqliteStoreOptions } from './options.js';
export { SqliteStore } from './sqlite-store.js';
export { SCHEMA_VERSION } from './schema.js';
