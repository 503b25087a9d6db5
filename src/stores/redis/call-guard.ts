import type { Redis } from 'ioredis';
import type { Clock } from '../../time/clock.js';
import { missingDatabase } from './database-check.js';
import { migrateLegacyPrefix } from './legacy-prefix.js';
import type { ResolvedRedisOptions } from './options.js';
import { toStoreError } from './redis-errors.js';

/**
 * What runs before and around every call of the Redis store: refuse once closed, move the keys of
 * a store from before the rename once, check once that the database exists, and turn every error
 * into a StoreError that says what happened with no credential in it (see redis-errors.ts).
 */
export class RedisCallGuard {
  private readonly client: Redis;
  private readonly clock: Clock;
  private readonly target: string;
  private readonly address: string;
  /** The database asked for, checked against the server once before the first call. */
  private readonly database: number;
  // An ES private field: not an own key, so no serializer or inspection can reach it.
  readonly #secrets: (string | null | undefined)[];
  private databaseChecked = false;
  private databaseCheck: Promise<void> | undefined;
  /** Set when the store can never work (a database the server does not have): every call throws it. */
  private fatal: Error | undefined;
  /** Why the connection is down, as the client last reported it (a command only says "gave up"). */
  private lastConnectionError: unknown;
  private readonly onClientError = (error: unknown) => {
    this.lastConnectionError = error;
  };
  private readonly onClientReady = () => {
    this.lastConnectionError = undefined;
  };
  private closed = false;
  /** False until the keys of a store from before the rename have been looked for (default prefix only). */
  private legacyChecked: boolean;
  private legacyMove: Promise<void> | undefined;

  constructor(resolved: ResolvedRedisOptions) {
    this.client = resolved.client;
    this.clock = resolved.clock;
    this.target = resolved.target;
    this.address = resolved.address;
    this.database = resolved.database;
    this.#secrets = resolved.secrets;
    this.legacyChecked = resolved.legacyChecked;
    this.client.on('error', this.onClientError);
    this.client.on('ready', this.onClientReady);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Refuses every later call and stops listening to the client. */
  close(): void {
    this.closed = true;
    this.client.off('error', this.onClientError);
    this.client.off('ready', this.onClientReady);
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error(`The Redis store ${this.target} is closed`);
    if (this.fatal !== undefined) throw this.fatal;
    try {
      if (!this.legacyChecked) await this.moveLegacyKeys();
      if (!this.databaseChecked) {
        this.databaseCheck ??= this.checkDatabase();
        await this.databaseCheck;
      }
      return await call();
    } catch (error) {
      throw toStoreError(error, {
        target: this.target,
        address: this.address,
        secrets: this.#secrets,
        lastConnectionError: this.lastConnectionError,
      });
    }
  }

  /** Moves the keys of a store written before the rename (prefix `lifeline`) once, before the first command. */
  private moveLegacyKeys(): Promise<void> {
    this.legacyMove ??= migrateLegacyPrefix(this.client, this.clock).then(
      () => {
        this.legacyChecked = true;
      },
      (error: unknown) => {
        // Try again on the next call (the server may have been unreachable).
        this.legacyMove = undefined;
        throw error;
      },
    );
    return this.legacyMove;
  }

  private async checkDatabase(): Promise<void> {
    try {
      this.fatal = await missingDatabase(this.client, this.database, this.target, this.address);
      if (this.fatal !== undefined) throw this.fatal;
      this.databaseChecked = true;
    } finally {
      this.databaseCheck = undefined;
    }
  }
}
