/**
 * faultline/postgres: durable queues and checkpoints in the PostgreSQL a service already runs,
 * with enqueue inside the application's own transaction. node-postgres (`pg`) is an optional peer
 * dependency, loaded only by this entry point.
 */
export { PostgresStore } from './postgres-store.js';
export type { PostgresStoreOptions } from './options.js';
export { describePostgresTarget, isPostgresUrl } from './connection.js';
export { migrationStatements, SCHEMA_VERSION } from './schema.js';
export type { SqlExecutor } from '../../durable/store.js';
