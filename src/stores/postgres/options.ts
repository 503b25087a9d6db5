import type pg from 'pg';
import type { Clock } from '../../time/clock.js';

/** How a PostgresStore connects and behaves (see docs/postgres.md for the table). */
export interface PostgresStoreOptions {
  /**
   * `postgres://[user:password@]host:port/database`. The store owns the pool it creates.
   * Credentials never appear in errors or logs.
   * @defaultValue none; give `connectionString`, `pool` or `poolOptions`
   */
  readonly connectionString?: string;
  /**
   * A pool you own instead: `close()` leaves it open.
   * @defaultValue none: the store creates its own
   */
  readonly pool?: pg.Pool;
  /**
   * Options for the pool the store creates and owns, alone or with `connectionString` (over
   * faultline's defaults: 10 connections, 5 s connect and 10 s query timeouts).
   * @defaultValue faultline's pool defaults
   */
  readonly poolOptions?: pg.PoolConfig;
  /**
   * The PostgreSQL schema holding the tables.
   * @defaultValue `faultline`
   */
  readonly schema?: string;
  /**
   * Create or migrate the schema on first use. False: refuse a schema that is not current
   * (`faultline migrate` ran elsewhere).
   * @defaultValue true
   */
  readonly migrate?: boolean;
  /**
   * Leases start and expire at the later of the caller's `now` and the database's clock (default
   * true), so a claim that reaches the server late never starts an already-expired lease. False:
   * the caller's `now` alone, as the other stores do (tests on a virtual clock set in the past).
   * @defaultValue true
   */
  readonly databaseClock?: boolean;
  /**
   * Claims commit without waiting for the WAL flush. About half the claim latency on
   * a busy server; the price: a database crash may forget the claims of its last fraction of a
   * second, so those jobs run again, possibly while their first worker still runs them (until its
   * next heartbeat finds the lease gone). Enqueues and outcomes always commit synchronously.
   * @defaultValue false
   */
  readonly asyncClaimCommit?: boolean;
  /**
   * Wake idle workers by LISTEN/NOTIFY; polling remains either way.
   * @defaultValue true
   */
  readonly listen?: boolean;
  /**
   * For the listener's reconnect backoff and close()'s bounded wait.
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
}
