import type { DurableStore } from '../../durable/store.js';
import { StoreError } from '../../durable/store-errors.js';

/** SQLite result codes (primary part) that mean the file itself is damaged. */
const DAMAGE = /^SQLITE_(CORRUPT|NOTADB)(_|$)/;

/**
 * Remembers that SQLite found the store file damaged. Only the calls that read a damaged page
 * fail, so a health check's small query would go on answering "healthy" and other calls would
 * keep writing around the damage; once seen, every call fails with one typed error instead
 * (`resource`, not retryable: the worker stops), until the file is repaired and reopened.
 */
export class DamageLatch {
  private damage: StoreError | undefined;

  constructor(private readonly path: string) {}

  /** Throws the damage seen so far, if any. */
  check(): void {
    if (this.damage !== undefined) throw this.damage;
  }

  /** Notes `error` if it says the file is damaged; returns what the caller should throw. */
  note(error: unknown): unknown {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !DAMAGE.test(code)) return error;
    this.damage ??= new StoreError(
      `The SQLite store ${this.path} is damaged (${code}): nothing more is read or written through this connection. Check it with integrityCheck() on a copy, restore it from a backup, and restart.`,
      {
        category: 'resource',
        retryable: false,
        code,
        cause: {
          name: 'SqliteError',
          message: String((error as { message?: unknown }).message ?? ''),
          code,
        },
      },
    );
    return this.damage;
  }

  /**
   * Wraps the named async methods of `target` so that a damage error from any of them is noted
   * (and thrown as the typed error), and every later call fails at once.
   */
  guard<T extends object>(target: T, names: readonly (keyof T & string)[]): void {
    for (const name of names) {
      const method = target[name] as unknown as (...args: unknown[]) => Promise<unknown>;
      const guarded = async (...args: unknown[]) => {
        this.check();
        try {
          return await method.apply(target, args);
        } catch (error) {
          throw this.note(error);
        }
      };
      Object.defineProperty(target, name, { value: guarded, configurable: true, writable: true });
    }
  }
}

/** The store calls the latch guards: every one but `close()` (and `integrityCheck()`, not here). */
export const GUARDED_CALLS = [
  'enqueue',
  'claim',
  'renew',
  'settle',
  'saveJobCheckpoint',
  'pause',
  'resume',
  'stats',
  'leaseHolders',
  'queues',
  'getJob',
  'listDead',
  'countDeadByCategory',
  'finishedPerBucket',
  'requeueDead',
  'purgeDead',
  'prune',
  'getCheckpoint',
  'putCheckpoint',
  'deleteCheckpoint',
  'listCheckpoints',
  'ping',
] as const satisfies readonly (keyof DurableStore)[];
