import { MATRIX, type MatrixEntry } from './scenarios.js';

/**
 * PostgreSQL's rows of the fault matrix (issue 18): the scenarios the server stores share (their
 * scripts only use the adapter's controls), on a private cluster per run, and one of its own —
 * the server terminates the workers' backends mid-run, as an administrator or a failover would.
 */
const SHARED = [
  'sigkill x20',
  'poison job',
  'server frozen 2.5 s',
  'server restart',
  'network delay, drop, reset',
];
const SHORT = new Set(['poison job']);

export const POSTGRES_MATRIX: readonly MatrixEntry[] = [
  ...SHARED.map((name) => {
    const entry = MATRIX.find((e) => e.scenario.name === name);
    if (!entry) throw new Error(`no scenario "${name}" in the fault matrix`);
    return {
      scenario: entry.scenario,
      stores: ['postgres'],
      short: SHORT.has(name) ? ['postgres'] : [],
    };
  }),
  {
    // Every worker connection (claims, acks, renewals, LISTEN) terminated five times, 600 ms
    // apart, while jobs run: they reconnect and nothing is lost.
    scenario: {
      name: 'pg_terminate_backend x5',
      jobs: 1_200,
      workers: 3,
      concurrency: 8,
      leaseMs: 1_000,
      // 60 ms of work (at most ~400 jobs a second): the backlog outlasts the five terminations.
      workMs: 60,
      deadlineMs: 60_000,
      inject: async (ctx) => {
        await ctx.wait(500);
        for (let round = 0; round < 5; round++) {
          const terminated = await ctx.adapter.terminateWorkers!();
          if (process.env.FAULTLINE_FAULTS_DEBUG)
            process.stderr.write(`terminated ${terminated} worker backends\n`);
          await ctx.wait(600);
        }
        ctx.healed();
      },
    },
    stores: ['postgres'],
    short: ['postgres'],
  },
];

/** Every store's scenarios that run real worker processes. */
export const FULL_MATRIX: readonly MatrixEntry[] = [...MATRIX, ...POSTGRES_MATRIX];
