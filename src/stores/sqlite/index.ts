/**
 * faultline/sqlite: the embedded durable store. Loads better-sqlite3 (an optional peer
 * dependency); the core entry point never does.
 */
export type { IntegrityReport, SqliteStoreOptions } from './sqlite-store.js';
export { SqliteStore } from './sqlite-store.js';
export { SCHEMA_VERSION } from './schema.js';
