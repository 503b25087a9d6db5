import type { InProcessScenario } from './in-process.js';

/**
 * The memory store's rows of the fault matrix (run in-process on virtual time, see
 * in-process.ts). Process faults (SIGKILL, a server's SIGSTOP or restart, a TCP proxy) have no
 * meaning for a store inside one process; these are their in-process counterparts, and the
 * clock jumps that only virtual time can stage precisely. Leases of 1 s, as in scenarios.ts.
 */
const LEASE_MS = 1_000;

export const MEMORY_MATRIX: readonly InProcessScenario[] = [
  {
    // The store stops answering for 2.5 leases, then answers the held calls in order, each with
    // the `now` it was sent with: claims and renewals from before the freeze arrive stale.
    name: 'store frozen 2.5 s',
    jobs: 1_200,
    workers: 4,
    concurrency: 8,
    leaseMs: LEASE_MS,
    workMs: 50,
    deadlineMs: 60_000,
    inject: async (ctx) => {
      await ctx.wait(300);
      ctx.freeze();
      await ctx.wait(2_500);
      await ctx.thaw();
      ctx.healed();
    },
  },
  {
    // 20 workers abandoned mid-run, as by SIGKILL: their leases are neither renewed nor
    // released, their jobs must be recovered and run again, never beside a live run.
    name: 'worker abandoned x20',
    jobs: 600,
    workers: 4,
    concurrency: 4,
    // Random crashes are not a poison job (as for 'sigkill x20').
    maxStrikes: 10,
    leaseMs: LEASE_MS,
    workMs: 200,
    deadlineMs: 120_000,
    inject: async (ctx) => {
      for (let kills = 0; kills < 20; ) {
        await ctx.wait(250 + ((kills * 97) % 250));
        if (ctx.kill()) kills++;
      }
    },
  },
  {
    // One worker's wall clock steps ahead and back by up to 200 ms, within the start margin of
    // a 1 s lease (250 ms): leases are stored in wall-clock time, so this is their tolerance.
    name: 'clock jumps ±200 ms',
    jobs: 600,
    workers: 3,
    concurrency: 5,
    leaseMs: LEASE_MS,
    workMs: 250,
    deadlineMs: 60_000,
    inject: async (ctx) => {
      for (const offset of [200, -200, 0, 150, -150, 200, -200, 100, -100, 0]) {
        ctx.skew(offset);
        await ctx.wait(370);
      }
    },
  },
];
