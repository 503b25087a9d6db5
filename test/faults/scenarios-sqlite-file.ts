import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import type Database from 'better-sqlite3';
import { Queue } from '../../src/durable/queue.js';
import { StoreError, StoreFileGoneError } from '../../src/durable/store-errors.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import type { DestroyedRun, FaultContext, Scenario } from './harness.js';
import { judge, type Verdict } from './invariants.js';
import { readLedger } from './ledger.js';
import type { MatrixEntry } from './scenarios.js';
import { ABORT_EXIT } from './sqlite-file-control.js';

/**
 * The SQLite file faults of the matrix (issue 17, findings 5 and 6).
 *
 * Deleted, replaced, corrupt: the store's data is gone by design, so "0 lost" cannot be asked.
 * What is asked instead: every worker STOPS (exits with ABORT_EXIT after a typed fault, within
 * STOP_BOUND_MS), none starts a job after it aborted, none goes on in a new file at the path,
 * and nothing is lost silently: every job a worker started has an outcome the store accepted
 * (`C`, `B` in the ledger) or is reported by the worker as not recorded (`F`, its `leaseLost`
 * event). The parent's own store must refuse as well (typed error, unhealthy).
 *
 * Read-only and disk full heal: the normal invariants hold (0 lost, resume after the heal),
 * workers stopped by the fault are restarted as a supervisor would.
 */

/**
 * The longest from the fault to the last worker's exit: the file check every 1 s, then a stop
 * of the 3 s deadline plus at most 1 s (an aborted worker keeps offering its outcomes to the
 * store until its stop ends; the store never comes back here).
 */
export const STOP_BOUND_MS = 6_000;

const LEASE_MS = 1_000;
/** Jobs the replacing file holds: no worker may touch them. */
const MARKERS = 5;
const QUEUE = 'faults';

export interface DestroyedVerdict {
  readonly report: Verdict & {
    readonly runs: number;
    readonly kills: number;
    readonly completed: number;
    readonly dead: number;
  };
  readonly stopped: {
    /** Workers that did not exit with ABORT_EXIT (name: code or signal). */
    readonly wrongExits: string[];
    /** From the fault to the last worker's exit. */
    readonly stopMs: number;
    /** Runs whose outcome the worker reported as not recorded. */
    readonly unrecorded: number;
    /** Runs neither recorded nor reported unrecorded (their count is the report's `lost`). */
    readonly silentlyLost: string[];
    /** Completions logged after the fault mark: accepted just before it, or on pages it spared. */
    readonly completedAfterFault: number;
    /** Handler starts after their worker had aborted. */
    readonly startsAfterAbort: string[];
    /** What the file or the parent's store showed that it should not. */
    readonly fileProblems: string[];
  };
}

type FileCheck = (run: DestroyedRun) => Promise<string[]>;

const fileOf = (run: { adapter: { spec: unknown } }) => (run.adapter.spec as { file: string }).file;
const sidecars = (file: string) => [file, `${file}-wal`, `${file}-shm`];

/** The parent's store must refuse too: an enqueue rejects with a typed, non-retryable error. */
async function parentRefuses(
  run: DestroyedRun,
  expected: new (...args: never[]) => Error,
): Promise<string[]> {
  const queue = new Queue<{ n: number }>(run.adapter.store, QUEUE);
  const problems: string[] = [];
  const health = await queue.health();
  if (health.status !== 'unhealthy') problems.push('the parent store still reports healthy');
  const error = await queue.enqueue({ n: -1 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error === undefined) problems.push('an enqueue after the fault resolved');
  else if (!(error instanceof expected))
    problems.push(`an enqueue after the fault failed with ${String(error)}`);
  return problems;
}

async function judgeDestroyed(run: DestroyedRun, checkFile: FileCheck): Promise<DestroyedVerdict> {
  const ledger = readLedger(run.ledgerPath);
  const recorded = new Set<string>();
  const unrecorded = new Set<string>();
  const abortedAt = new Map<string, number>();
  const completed = new Set<string>();
  let completedAfterFault = 0;
  for (const line of readFileSync(run.ledgerPath, 'utf8').split('\n')) {
    const [kind, a, b, c] = line.split(' ');
    if (kind === 'C' || kind === 'B') {
      recorded.add(`${a} ${b}`);
      if (kind === 'C') {
        completed.add(a!);
        if (run.faultAt !== undefined && Number(c) >= run.faultAt) completedAfterFault++;
      }
    } else if (kind === 'F') unrecorded.add(`${a} ${b}`);
    else if (kind === 'A') abortedAt.set(a!, Number(b));
  }
  const silent = ledger.runs
    .filter((r) => !recorded.has(`${r.job} ${r.worker}`) && !unrecorded.has(`${r.job} ${r.worker}`))
    .map((r) => `${r.job} by ${r.worker}: neither recorded nor reported unrecorded`);
  const startsAfterAbort = ledger.runs
    .filter((r) => r.start > (abortedAt.get(r.worker) ?? Number.POSITIVE_INFINITY))
    .map((r) => `${r.job} started by ${r.worker} after it aborted`);
  const verdict = judge({
    ledger,
    jobs: run.ids,
    completed,
    dead: new Set(),
    // The rest of the jobs went with the file: not "lost" here; silent losses are counted below.
    pending: new Set(run.ids.filter((id) => !completed.has(id))),
    meantToDie: new Set(),
  });
  const wrongExits = run.exits
    .filter((e) => e.code !== ABORT_EXIT)
    .map((e) => `${e.worker}: ${e.code ?? e.signal}`);
  if (run.faultAt === undefined) wrongExits.push('the fault was never marked');
  const lastExit = Math.max(...run.exits.map((e) => e.at));
  return {
    report: {
      ...verdict,
      lost: silent.length,
      unfinished: 0,
      runs: ledger.runs.length,
      kills: ledger.kills.size,
      completed: completed.size,
      dead: 0,
    },
    stopped: {
      wrongExits,
      stopMs: lastExit - (run.faultAt ?? lastExit),
      unrecorded: unrecorded.size,
      silentlyLost: silent,
      completedAfterFault,
      startsAfterAbort,
      fileProblems: await checkFile(run),
    },
  };
}

const destroying = (
  name: string,
  strike: (ctx: FaultContext, file: string) => void | Promise<void>,
  checkFile: FileCheck,
  jobs = 1_200,
): Scenario => ({
  name,
  jobs,
  workers: 3,
  concurrency: 8,
  leaseMs: LEASE_MS,
  workMs: 20,
  deadlineMs: 40_000,
  inject: async (ctx) => {
    await ctx.wait(800);
    await strike(ctx, fileOf(ctx));
    ctx.faulted();
  },
  destroys: { judge: (run) => judgeDestroyed(run, checkFile) },
});

/** A valid store with MARKERS waiting jobs, renamed over the path as a restore from backup would. */
async function replaceFile(file: string): Promise<void> {
  const other = `${file}.other`;
  const store = new SqliteStore(other);
  await new Queue<{ n: number }>(store, QUEUE).enqueueMany(
    Array.from({ length: MARKERS }, (_, k) => ({ payload: { n: -1 - k } })),
  );
  await store.close();
  for (const side of sidecars(file).slice(1)) rmSync(side, { force: true });
  renameSync(other, file);
}

/**
 * 16 KB of garbage in the middle of the file, where the rows of waiting jobs are. A checkpoint
 * first (on the parent's connection): otherwise the newest pages all sit in the `-wal` and the
 * workers never read the main file's damaged ones.
 */
function corruptFile(ctx: FaultContext, file: string): void {
  (ctx.adapter.store as unknown as { db: Database.Database }).db.pragma('wal_checkpoint(FULL)');
  const size = statSync(file).size;
  const fd = openSync(file, 'r+');
  const garbage = Buffer.alloc(16 * 1024, 0xa5);
  writeSync(fd, garbage, 0, garbage.length, Math.floor(size / 2 / 4096) * 4096);
  closeSync(fd);
}

/**
 * Holds a healing fault for at least `minMs` and until `count` workers have stopped on it (a
 * restarted worker takes seconds to start on a loaded machine; a fault healed before it opens
 * tests nothing), at most `maxMs`.
 */
async function holdUntilAborts(ctx: FaultContext, count: number, minMs: number, maxMs: number) {
  const start = Date.now();
  await ctx.wait(minMs);
  while (ctx.aborts() < count && Date.now() - start < maxMs) await ctx.wait(100);
}

const healing = (
  name: string,
  extra: Partial<Scenario>,
  hurt: (ctx: FaultContext, file: string) => Promise<void>,
  heal: (ctx: FaultContext, file: string) => void,
): Scenario => ({
  name,
  jobs: 1_200,
  workers: 3,
  concurrency: 8,
  leaseMs: LEASE_MS,
  workMs: 20,
  deadlineMs: 60_000,
  // A supervisor's restart delay.
  restartAbortedMs: 250,
  ...extra,
  inject: async (ctx) => {
    await ctx.wait(800);
    const file = fileOf(ctx);
    await hurt(ctx, file);
    heal(ctx, file);
    ctx.healed();
  },
});

export const SQLITE_FILE_MATRIX: readonly MatrixEntry[] = [
  {
    // Store file, -wal and -shm deleted under running workers.
    scenario: destroying(
      'file deleted',
      (_ctx, file) => {
        for (const f of sidecars(file)) rmSync(f, { force: true });
      },
      async (run) => [
        ...(existsSync(fileOf(run)) ? ['a new file was created at the path'] : []),
        ...(await parentRefuses(run, StoreFileGoneError)),
      ],
    ),
    stores: ['sqlite'],
    short: ['sqlite'],
  },
  {
    // Another valid store (MARKERS waiting jobs) renamed over the path, -wal and -shm removed.
    scenario: destroying(
      'file replaced',
      (_ctx, file) => replaceFile(file),
      async (run) => {
        const problems = await parentRefuses(run, StoreFileGoneError);
        const store = new SqliteStore(fileOf(run));
        try {
          const counts = await store.stats(QUEUE, Date.now());
          if (counts.waiting !== MARKERS || counts.running + counts.completed + counts.dead !== 0)
            problems.push(`a worker went on in the new file: ${JSON.stringify(counts)}`);
        } finally {
          await store.close();
        }
        return problems;
      },
    ),
    stores: ['sqlite'],
    short: [],
  },
  {
    // 16 KB of garbage in the middle of the file while workers run.
    scenario: destroying(
      'file corrupt',
      (ctx, file) => corruptFile(ctx, file),
      async (run) => {
        const store = run.adapter.store as SqliteStore;
        const report = store.integrityCheck();
        const problems = report.ok ? ['integrityCheck() found nothing wrong'] : [];
        // The parent's connection may not have read a damaged page yet: if it has, it refuses.
        const error = await store.ping().then(
          () => undefined,
          (e: unknown) => e,
        );
        if (error !== undefined && !(error instanceof StoreError))
          problems.push(`the parent's ping failed with an untyped ${String(error)}`);
        return problems;
      },
      // Enough that the middle of the file still holds waiting jobs when the damage comes:
      // damaged rows nobody reads again (finished jobs) would stop no one.
      3_000,
    ),
    stores: ['sqlite'],
    short: ['sqlite'],
  },
  {
    // File, -wal and -shm made read-only (workers run as root without CAP_DAC_OVERRIDE) for
    // 2.5 s, and until both SIGKILLed workers' replacements were refused. Permissions are
    // checked when a file is opened, so the running worker writes on through its open
    // descriptors; the restarted ones are refused at open (typed resource error, ABORT_EXIT) and
    // restarted until the file is writable again.
    scenario: healing(
      'read-only',
      { unprivileged: true },
      async (ctx, file) => {
        for (const f of sidecars(file)) if (existsSync(f)) chmodSync(f, 0o444);
        ctx.kill();
        ctx.kill();
        await holdUntilAborts(ctx, 2, 2_500, 20_000);
      },
      (_ctx, file) => {
        for (const f of sidecars(file)) if (existsSync(f)) chmodSync(f, 0o644);
      },
    ),
    stores: ['sqlite'],
    short: [],
  },
  {
    // Every worker's connection capped at the pages the file has (PRAGMA max_page_count, via the
    // control file) for 2.5 s, and until a worker stopped on it: writes that need a page fail
    // with SQLITE_FULL, the worker aborts and is restarted (still capped) until the cap is lifted.
    scenario: healing(
      'disk full',
      // A backlog that outlasts the fault: only writes need pages.
      { jobs: 3_000 },
      async (ctx) => {
        ctx.control('full');
        await holdUntilAborts(ctx, 1, 2_500, 20_000);
      },
      (ctx) => ctx.control('ok'),
    ),
    stores: ['sqlite'],
    short: [],
  },
];
