import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseStoreLocation, type StoreLocation } from '../config/env.js';
import type { DurableStore } from '../durable/store.js';
import { MissingPeerError } from '../faults/errors.js';
import { CliError, EXIT } from './exit-codes.js';
import { passwordOf, redact } from './redact.js';

/** An open store and how to name it in messages (credentials removed). */
export interface OpenedStore {
  readonly store: DurableStore;
  readonly location: StoreLocation;
  /** `sqlite:/abs/path.db` or `redis://host:port/db`, safe to print. */
  readonly label: string;
  /** Secrets to scrub from any error text about this store. */
  readonly secrets: readonly (string | undefined)[];
}

export interface OpenStoreOptions {
  /** Create a missing SQLite file (the demo). Inspection commands never create one. */
  readonly create: boolean;
  /** Key prefix of a Redis store (default: the store's own). */
  readonly prefix?: string;
}

export function parseStoreOption(text: string): StoreLocation {
  const location = parseStoreLocation(text);
  if ('problem' in location) {
    throw new CliError(`Invalid --store ${JSON.stringify(redact(text))}: ${location.problem}`, EXIT.usage);
  }
  return location;
}

export function storeLabel(location: StoreLocation): string {
  switch (location.kind) {
    case 'sqlite':
      return `sqlite:${resolve(location.path)}`;
    case 'redis':
      return redact(location.url);
    case 'memory':
      return 'memory';
  }
}

/**
 * Opens the store named by `--store`. A SQLite file that does not exist is an error (exit 3)
 * unless `create` is set, so a typo in a path never leaves an empty database behind.
 */
export async function openStore(location: StoreLocation, options: OpenStoreOptions): Promise<OpenedStore> {
  const label = storeLabel(location);
  switch (location.kind) {
    case 'memory': {
      if (!options.create) {
        throw new CliError('The memory store lives inside one process: there is nothing to inspect', EXIT.usage, 'Pass --store sqlite:PATH or --store redis://HOST:PORT');
      }
      // The demo on a memory store works, but nothing survives the process (no resume).
      const { MemoryStore } = await import('../stores/memory/memory-store.js');
      return { store: new MemoryStore(), location, label, secrets: [] };
    }
    case 'sqlite': {
      const path = resolve(location.path);
      if (!options.create && !existsSync(path)) {
        throw new CliError(
          `No faultline store at ${path}: the file does not exist (nothing was created)`,
          EXIT.storeNotFound,
          'Check the path, or run `npx faultline demo` to create ./faultline-demo.db',
        );
      }
      if (existsSync(path) && statSync(path).isDirectory()) {
        throw new CliError(`${path} is a directory, not a faultline store`, EXIT.storeNotFound);
      }
      const store = await openSqlite(path);
      return { store, location, label, secrets: [] };
    }
    case 'redis': {
      const secrets = [passwordOf(location.url)];
      const store = await openRedis(location.url, options.prefix, label, secrets);
      return { store, location, label, secrets };
    }
  }
}

async function openSqlite(path: string): Promise<DurableStore> {
  const { openSqliteForCli } = await import('./store-backends.js');
  return openSqliteForCli(path);
}

async function openRedis(url: string, prefix: string | undefined, label: string, secrets: readonly (string | undefined)[]): Promise<DurableStore> {
  const { openRedisForCli } = await import('./store-backends.js');
  try {
    return await openRedisForCli(url, prefix);
  } catch (error) {
    // A missing ioredis is not an unreachable server: it keeps its own message and exit code.
    if (error instanceof MissingPeerError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(`Cannot reach the Redis store at ${label}: ${redact(message, secrets)}`, EXIT.storeNotFound, 'Is Redis running? Check the host, port and credentials');
  }
}
