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
  /** PostgreSQL schema of a PostgreSQL store (default: the store's own, `faultline`). */
  readonly schema?: string;
}

export function parseStoreOption(text: string): StoreLocation {
  const location = parseStoreLocation(text);
  if ('problem' in location) {
    throw new CliError(
      `Invalid --store ${JSON.stringify(redact(text))}: ${location.problem}`,
      EXIT.usage,
    );
  }
  return location;
}

export function storeLabel(location: StoreLocation): string {
  switch (location.kind) {
    case 'sqlite':
      return `sqlite:${resolve(location.path)}`;
    case 'redis':
    case 'postgres':
      return redact(location.url);
    case 'memory':
      return 'memory';
  }
}

/**
 * Opens the store named by `--store`. A SQLite file that does not exist is an error (exit 3)
 * unless `create` is set, so a typo in a path never leaves an empty database behind.
 */
export async function openStore(
  location: StoreLocation,
  options: OpenStoreOptions,
): Promise<OpenedStore> {
  const label = storeLabel(location);
  switch (location.kind) {
    case 'memory': {
      if (!options.create) {
        throw new CliError(
          'The memory store lives inside one process: there is nothing to inspect',
          EXIT.usage,
          'Pass --store sqlite:PATH or --store redis://HOST:PORT',
        );
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
    case 'postgres': {
      const secrets = [passwordOf(location.url)];
      const store = await openPostgres(location.url, options, label, secrets);
      return { store, location, label, secrets };
    }
  }
}

async function openPostgres(
  url: string,
  options: OpenStoreOptions,
  label: string,
  secrets: readonly (string | undefined)[],
): Promise<DurableStore> {
  const { openPostgresForCli } = await import('./store-backends.js');
  try {
    return await openPostgresForCli(url, options.schema, options.create);
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(
      `Cannot open the PostgreSQL store at ${label}: ${redact(message, secrets)}`,
      EXIT.storeNotFound,
      'Is PostgreSQL running? Check the host, port, database, credentials and --pg-schema',
    );
  }
}

async function openSqlite(path: string): Promise<DurableStore> {
  const { openSqliteForCli } = await import('./store-backends.js');
  return openSqliteForCli(path);
}

async function openRedis(
  url: string,
  prefix: string | undefined,
  label: string,
  secrets: readonly (string | undefined)[],
): Promise<DurableStore> {
  const { openRedisForCli } = await import('./store-backends.js');
  try {
    return await openRedisForCli(url, prefix);
  } catch (error) {
    // A missing ioredis is not an unreachable server: it keeps its own message and exit code.
    if (error instanceof MissingPeerError) throw error;
    // The store's errors already say what happened (authentication failed, connection refused
    // by host:port, no such database) without credentials; scrubbed once more all the same.
    const message = error instanceof Error ? error.message : String(error);
    const category = (error as { category?: unknown } | null)?.category;
    const hint =
      category === 'auth'
        ? 'Check the user name and password in the URL'
        : category === 'validation'
          ? 'Check the URL'
          : 'Is Redis running? Check the host and port';
    const verb = category === 'auth' || category === 'validation' ? 'Cannot use' : 'Cannot reach';
    throw new CliError(
      `${verb} the Redis store at ${label}: ${redact(message, secrets)}`,
      EXIT.storeNotFound,
      hint,
    );
  }
}
