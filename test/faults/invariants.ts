import type { Ledger, RunEntry } from './ledger.js';

/** What every scenario must show, whatever fault it injected. */
export interface Verdict {
  /** Jobs the store no longer has at all (neither completed, dead, waiting nor running). */
  readonly lost: number;
  /** Jobs still waiting or running when the scenario's deadline passed (liveness, not loss). */
  readonly unfinished: number;
  /** Handler starts at or after the end of the lease their claim was given. */
  readonly lateStarts: string[];
  /** A job started by one worker while another live worker was still running it. */
  readonly overlaps: string[];
  /** Dead letters that should not be there, and jobs that should have died but did not. */
  readonly wrongDead: string[];
  /** Runs whose ctx.attempt was not 1 although the job never failed (only crashes and faults hit it). */
  readonly inflatedAttempts: string[];
  /** Ms from the fault healing to the next handler start (undefined: no heal in this scenario). */
  readonly resumeMs: number | undefined;
}

export function judge(input: {
  readonly ledger: Ledger;
  readonly jobs: readonly string[];
  readonly completed: ReadonlySet<string>;
  readonly dead: ReadonlySet<string>;
  /** Jobs found waiting or running at the end. */
  readonly pending: ReadonlySet<string>;
  readonly meantToDie: ReadonlySet<string>;
  readonly healedAt?: number;
}): Verdict {
  const { ledger, jobs, completed, dead, meantToDie } = input;
  const unfinished = input.pending.size;
  const lost = jobs.filter(
    (id) => !completed.has(id) && !dead.has(id) && !input.pending.has(id),
  ).length;
  const lateStarts = ledger.runs
    .filter((r) => !(r.start < r.leaseEnd))
    .map(
      (r) => `${r.job} by ${r.worker}: started ${r.start - r.leaseEnd} ms after its lease ended`,
    );
  const byJob = new Map<string, RunEntry[]>();
  for (const run of ledger.runs) byJob.set(run.job, [...(byJob.get(run.job) ?? []), run]);
  const overlaps: string[] = [];
  for (const [job, runs] of byJob) {
    for (const a of runs) {
      // A killed worker's run ends when it was killed.
      const end = a.end ?? ledger.kills.get(a.worker) ?? Number.POSITIVE_INFINITY;
      for (const b of runs) {
        if (a !== b && a.worker !== b.worker && a.start <= b.start && b.start < end)
          overlaps.push(`${job}: ${b.worker} started while ${a.worker} ran it`);
      }
    }
  }
  const wrongDead = [
    ...[...dead]
      .filter((id) => !meantToDie.has(id))
      .map((id) => `${id} dead-lettered although healthy`),
    ...[...meantToDie]
      .filter((id) => !dead.has(id))
      .map((id) => `${id} should have been dead-lettered`),
  ];
  const inflatedAttempts = ledger.runs
    .filter((r) => r.attempt !== 1)
    .map((r) => `${r.job}: ctx.attempt ${r.attempt}`);
  let resumeMs: number | undefined;
  if (input.healedAt !== undefined) {
    const next = ledger.runs
      .filter((r) => r.start >= input.healedAt!)
      .reduce((min, r) => Math.min(min, r.start), Number.POSITIVE_INFINITY);
    resumeMs = next === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : next - input.healedAt;
  }
  return { lost, unfinished, lateStarts, overlaps, wrongDead, inflatedAttempts, resumeMs };
}
