import type { Scenario } from './harness.js';
import { SQLITE_FILE_MATRIX } from './scenarios-sqlite-file.js';

/**
 * The fault matrix. Each scenario names the stores it is meaningful for; `short` marks the ones
 * the normal test run includes (the long form, FAULTLINE_FAULTS=long, runs all of them 5 times).
 */
export interface MatrixEntry {
  readonly scenario: Scenario;
  readonly stores: readonly string[];
  readonly short: readonly string[];
}

const LEASE_MS = 1_000;

export const MATRIX: readonly MatrixEntry[] = [
  {
    // ≥ 20 SIGKILLs of random workers while they work.
    scenario: {
      name: 'sigkill x20',
      jobs: 2_500,
      workers: 4,
      // Random kills are not a poison job: a job that happens to be hit by three of them in a
      // row must not be dead-lettered as a crash loop.
      maxStrikes: 10,
      concurrency: 4,
      leaseMs: LEASE_MS,
      workMs: 30,
      deadlineMs: 180_000,
      inject: async (ctx) => {
        // Redelivery after a kill is bounded by crash.test.ts with the default lease; here the
        // point is many kills at random moments of the work.
        // Twenty kills even if the work ends first (a worker process takes seconds to start).
        for (let kills = 0; kills < 20; ) {
          await ctx.wait(250 + Math.random() * 250);
          if (ctx.kill()) kills++;
        }
      },
    },
    stores: ['sqlite', 'redis'],
    short: [],
  },
  {
    // One job kills its worker every time it runs; it shares its first batch with 29 others.
    scenario: {
      name: 'poison job',
      jobs: 30,
      workers: 1,
      concurrency: 10,
      leaseMs: LEASE_MS,
      workMs: 20,
      poison: 1,
      deadlineMs: 60_000,
      inject: async () => {},
    },
    stores: ['sqlite', 'redis'],
    short: ['sqlite', 'redis'],
  },
  {
    // The server stops answering (SIGSTOP) for 2.5 leases, then goes on with the backlog.
    scenario: {
      name: 'server frozen 2.5 s',
      jobs: 1_200,
      workers: 4,
      concurrency: 8,
      leaseMs: LEASE_MS,
      workMs: 20,
      deadlineMs: 60_000,
      inject: async (ctx) => {
        await ctx.wait(800);
        ctx.adapter.server!.freeze();
        await ctx.wait(2_500);
        ctx.adapter.server!.thaw();
        ctx.healed();
      },
    },
    stores: ['redis'],
    short: ['redis'],
  },
  {
    // The server is SIGKILLed and started again on its AOF (appendfsync always).
    scenario: {
      name: 'server restart',
      jobs: 1_200,
      workers: 3,
      concurrency: 8,
      leaseMs: LEASE_MS,
      workMs: 20,
      deadlineMs: 60_000,
      inject: async (ctx) => {
        await ctx.wait(800);
        await ctx.adapter.server!.restart();
        ctx.healed();
      },
    },
    stores: ['redis'],
    short: [],
  },
  {
    // The network between workers and server: every packet 1.5 s late for 3 s, then every
    // connection reset; then a black hole for 2 s, and a reset again. Work of 60 ms (24 slots:
    // at most ~400 jobs a second) so that jobs are still running when the black hole starts;
    // with 20 ms the backlog was often done in the second between the two faults.
    scenario: {
      name: 'network delay, drop, reset',
      jobs: 1_200,
      workers: 3,
      concurrency: 8,
      leaseMs: LEASE_MS,
      workMs: 60,
      deadlineMs: 60_000,
      inject: async (ctx) => {
        const proxy = ctx.adapter.proxy!;
        await ctx.wait(800);
        proxy.delay(1_500);
        await ctx.wait(3_000);
        proxy.heal();
        proxy.reset();
        await ctx.wait(1_000);
        proxy.drop();
        await ctx.wait(2_000);
        proxy.heal();
        proxy.reset();
        ctx.healed();
      },
    },
    stores: ['redis'],
    short: [],
  },
  // The SQLite file deleted, replaced, corrupted, read-only, full.
  ...SQLITE_FILE_MATRIX,
];
