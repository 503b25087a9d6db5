import { describe, expect, it } from 'vitest';
import { runInProcess } from './in-process.js';
import { RESUME_PROBES } from './probes.js';

/**
 * The harness checked on itself (in-process, virtual time): its verdicts must mean something.
 * A scenario that cannot fail proves nothing, and one that fails for want of work misleads.
 */
describe('the fault harness', () => {
  it('measures resumption even when the backlog was finished before the fault healed', async () => {
    // The network scenario on Redis failed its resume bound in every long run this way: its
    // 1,200 jobs were often done in the second between its two faults, so no handler started
    // after the final heal and the resume time read as infinite.
    const report = await runInProcess(
      {
        name: 'heal after the work is done',
        jobs: 20,
        workers: 2,
        concurrency: 4,
        leaseMs: 1_000,
        workMs: 20,
        deadlineMs: 30_000,
        inject: async (ctx) => {
          await ctx.wait(2_000);
          ctx.freeze();
          await ctx.wait(1_000);
          await ctx.thaw();
          ctx.healed();
        },
      },
      1,
    );
    // Probes are found by the next poll (pollMs 500 by default), not "never".
    expect(report.resumeMs).toBeGreaterThanOrEqual(0);
    expect(report.resumeMs).toBeLessThanOrEqual(500);
    expect(report.probes).toBe(RESUME_PROBES);
    expect(report.completed).toBe(20 + RESUME_PROBES);
    expect(report.lost).toBe(0);
  });

  it('sees a violation when one is staged: wall-clock steps beyond the lease margin overlap runs', async () => {
    // Steps of 900 ms on a 1 s lease break condition 2 of the guarantee (clocks agree within
    // leaseMs / 4); the clock-jump scenario of the matrix must be able to tell.
    const report = await runInProcess(
      {
        name: 'clock jumps ±900 ms',
        jobs: 300,
        workers: 3,
        concurrency: 5,
        leaseMs: 1_000,
        workMs: 250,
        deadlineMs: 60_000,
        inject: async (ctx) => {
          for (const offset of [900, -900, 900, -900, 900, -900, 0]) {
            ctx.skew(offset);
            await ctx.wait(370);
          }
        },
      },
      7,
    );
    expect(report.overlaps.length + report.lateStarts.length).toBeGreaterThan(0);
  });

  it('sees abandoned workers: their runs end at the crash, their jobs are run again by others', async () => {
    const report = await runInProcess(
      {
        name: 'two workers abandoned',
        jobs: 60,
        workers: 3,
        concurrency: 4,
        leaseMs: 1_000,
        workMs: 400,
        deadlineMs: 60_000,
        inject: async (ctx) => {
          await ctx.wait(300);
          expect(ctx.kill()).toBe(true);
          await ctx.wait(300);
          expect(ctx.kill()).toBe(true);
        },
      },
      3,
    );
    expect(report.kills).toBe(2);
    // Jobs held by the abandoned workers ran a second time, after their leases ended.
    expect(report.runs).toBeGreaterThan(60);
    expect(report.completed).toBe(60);
    expect(report.overlaps).toEqual([]);
    expect(report.inflatedAttempts).toEqual([]);
  });
});
