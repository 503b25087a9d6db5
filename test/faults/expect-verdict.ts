import { expect } from 'vitest';
import { RESUME_BOUND_MS, type ScenarioReport } from './harness.js';
import { STOP_BOUND_MS } from './scenarios-sqlite-file.js';

/** The invariants every scenario must show, on every store, in-process or not. */
export function expectVerdict(report: ScenarioReport): void {
  expect(report.lost).toBe(0);
  expect(report.crashes).toBe(0);
  expect(report.unfinished).toBe(0);
  expect(report.lateStarts).toEqual([]);
  expect(report.overlaps).toEqual([]);
  expect(report.wrongDead).toEqual([]);
  expect(report.inflatedAttempts).toEqual([]);
  if (report.resumeMs !== undefined) expect(report.resumeMs).toBeLessThanOrEqual(RESUME_BOUND_MS);
  if (report.stopped !== undefined) {
    // A fault that destroyed the store: every worker stopped, in time, and said what it lost.
    expect(report.stopped.wrongExits).toEqual([]);
    expect(report.stopped.stopMs).toBeLessThanOrEqual(STOP_BOUND_MS);
    expect(report.stopped.startsAfterAbort).toEqual([]);
    expect(report.stopped.fileProblems).toEqual([]);
  }
}
