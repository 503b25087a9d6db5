import type { DurableStore } from '../durable/store.js';
import { CliError, EXIT } from './exit-codes.js';

/**
 * The concrete store constructors, loaded lazily so that `lifeline --help` and commands on
 * one backend never load the other's driver.
 */
export async function openSqliteForCli(_path: string, _create: boolean): Promise<DurableStore> {
  throw new CliError('The SQLite store is not available in this build', EXIT.failure);
}

export async function openRedisForCli(_url: string, _prefix: string | undefined): Promise<DurableStore> {
  throw new CliError('The Redis store is not available in this build', EXIT.failure);
}
