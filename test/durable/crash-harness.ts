/**
 * The crash harness: several worker processes share one SQLite file while a random one of
 * them is killed with SIGKILL at a random moment, again and again, and restarted each time.
 * Afterwards the log of every handler start and end (with the claim's fencing token) and the
 * store are checked: every job completed exactly once, none lost, no job ran in two live
 * workers at once, runs per job <= 1 + kills that hit it, and the file passes integrity_check.
 *
 *   npx tsx test/durable/crash-harness.ts [jobs] [workers] [kills]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from '../../src/durable/queue.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'crash-child.ts');

export interface CrashReport {
  readonly jobs: number;
  readonly kills: number;
  readonly completedInStore: number;
  readonly otherStatesInStore: number;
  readonly completionsReported: number;
  readonly duplicateCompletions: string[];
  readonly overlaps: string[];
  readonly tooManyRuns: string[];
  readonly totalRuns: number;
  readonly integrity: string;
  /** Ms from a SIGKILL to the first restart of a job the killed worker was running. */
  readonly redeliveryMs: readonly number[];
  readonly elapsedMs: number;
}

/** Spawns a child running one of crash-child.ts's modes; calls `onLine` for each stdout line. */
export function spawnChild(
  args: string[],
  onLine: (line: string) => void,
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let buffer = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf('\n');
    while (nl !== -1) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += String(chunk);
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGKILL' && signal !== 'SIGTERM')
      process.stderr.write(`crash child exited ${code} ${signal}: ${stderr}\n`);
  });
  return child;
}

export async function runCrashHarness(
  options: {
    jobs?: number;
    workers?: number;
    kills?: number;
    concurrency?: number;
    deadlineMs?: number;
    /** The workers' crash-loop limit (default: the worker's own, 3). */
    maxStrikes?: number;
  } = {},
): Promise<CrashReport> {
  const jobs = options.jobs ?? 5_000;
  const workers = options.workers ?? 3;
  const targetKills = options.kills ?? 25;
  const dir = mkdtempSync(join(tmpdir(), 'faultline-crash-'));
  const db = join(dir, 'crash.db');
  const log = join(dir, 'runs.log');
  writeFileSync(log, '');
  const started = Date.now();
  try {
    const store = new SqliteStore(db);
    const queue = new Queue<{ n: number }>(store, 'crash');
    await queue.enqueueMany(
      Array.from({ length: jobs }, (_, n) => ({ payload: { n }, idempotencyKey: `job-${n}` })),
    );

    const completions = new Map<string, number>();
    const killTimes = new Map<number, number>();
    let kills = 0;
    let startsSinceKill = 0;
    let threshold = 0;
    let finished = false;
    let failed: Error | undefined;
    const live = new Set<ChildProcess>();
    const ready = new Set<ChildProcess>();
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });

    const pickThreshold = () => {
      const remainingJobs = Math.max(0, jobs - completions.size);
      const mean = remainingJobs / (targetKills - kills + 2);
      threshold = Math.max(10, Math.round(mean * (0.4 + Math.random() * 1.2)));
    };
    const checkDone = async () => {
      if (finished) return;
      if ((await store.stats('crash', Date.now())).completed === jobs) {
        finished = true;
        resolveDone();
      }
    };
    const killOne = () => {
      const candidates = [...ready];
      const victim = candidates[Math.floor(Math.random() * candidates.length)];
      if (!victim) return;
      kills++;
      startsSinceKill = 0;
      pickThreshold();
      ready.delete(victim);
      victim.kill('SIGKILL');
    };
    const start = () => {
      const env =
        options.maxStrikes === undefined ? {} : { MAX_STRIKES: String(options.maxStrikes) };
      const child = spawnChild(
        ['queue', db, log, String(options.concurrency ?? 4)],
        (line) => {
          if (line === 'ready') ready.add(child);
          else if (line === 'idle') void checkDone();
          else if (line === 'S') {
            if (++startsSinceKill >= threshold && kills < targetKills && !finished) killOne();
          } else if (line.startsWith('C ')) {
            const id = line.slice(2);
            completions.set(id, (completions.get(id) ?? 0) + 1);
            if (completions.size === jobs || completions.size % 250 === 0) void checkDone();
          }
        },
        env,
      );
      live.add(child);
      child.on('exit', (_code, signal) => {
        live.delete(child);
        ready.delete(child);
        if (signal === 'SIGKILL') {
          killTimes.set(child.pid!, Date.now());
          appendFileSync(log, `K ${child.pid} ${Date.now()}\n`);
          if (!finished) start();
          void checkDone();
        }
      });
    };
    pickThreshold();
    for (let i = 0; i < workers; i++) start();
    const deadline = setTimeout(() => {
      finished = true;
      for (const child of live) child.kill('SIGKILL');
      failed = new Error(
        `crash harness: not done after ${options.deadlineMs ?? 150_000} ms (${completions.size}/${jobs} completions seen)`,
      );
      resolveDone();
    }, options.deadlineMs ?? 150_000);
    await done;
    clearTimeout(deadline);
    if (failed) throw failed;
    await Promise.all(
      [...live].map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );

    const analysis = analyseLog(readFileSync(log, 'utf8'), killTimes);
    const counts = store.integrityCheck();
    const finalStats = await store.stats('crash', Date.now());
    await store.close();
    return {
      jobs,
      kills,
      completedInStore: finalStats.completed,
      otherStatesInStore:
        finalStats.waiting + finalStats.delayed + finalStats.running + finalStats.dead,
      completionsReported: completions.size,
      duplicateCompletions: [...completions].filter(([, n]) => n > 1).map(([id]) => id),
      ...analysis,
      integrity: counts.ok ? 'ok' : counts.problems.join('\n'),
      elapsedMs: Date.now() - started,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Replays the run log in order and checks overlaps, runs per job and redelivery times. */
export function analyseLog(text: string, killTimes: ReadonlyMap<number, number>) {
  const killed = new Set<number>();
  const open = new Map<string, Map<string, number>>(); // job -> token -> pid
  const runs = new Map<string, { starts: number; pids: Set<number> }>();
  const pendingRedelivery = new Map<string, number>(); // job -> pid killed while running it
  const redeliveryMs: number[] = [];
  const overlaps: string[] = [];
  let totalRuns = 0;
  for (const line of text.split('\n')) {
    const [kind, a, b, c, d] = line.split(' ');
    if (kind === 'K') {
      const pid = Number(a);
      killed.add(pid);
      for (const [job, tokens] of open)
        for (const owner of tokens.values()) if (owner === pid) pendingRedelivery.set(job, pid);
    } else if (kind === 'S') {
      const [job, token, pid, at] = [a!, b!, Number(c), Number(d)];
      totalRuns++;
      const tokens = open.get(job) ?? new Map<string, number>();
      for (const owner of tokens.values())
        if (owner !== pid && !killed.has(owner))
          overlaps.push(`${job}: pid ${pid} started while pid ${owner} was running it`);
      tokens.set(token, pid);
      open.set(job, tokens);
      const r = runs.get(job) ?? { starts: 0, pids: new Set<number>() };
      r.starts++;
      r.pids.add(pid);
      runs.set(job, r);
      const victim = pendingRedelivery.get(job);
      if (victim !== undefined) {
        pendingRedelivery.delete(job);
        redeliveryMs.push(at - killTimes.get(victim)!);
      }
    } else if (kind === 'E') {
      open.get(a!)?.delete(b!);
    }
  }
  const tooManyRuns: string[] = [];
  for (const [job, r] of runs) {
    const hits = [...r.pids].filter((pid) => killed.has(pid)).length;
    if (r.starts > 1 + hits) tooManyRuns.push(`${job}: ${r.starts} runs, ${hits} kills hit it`);
  }
  return { overlaps, tooManyRuns, totalRuns, redeliveryMs };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [jobs, workers, kills] = process.argv.slice(2).map(Number);
  const report = await runCrashHarness({
    jobs: jobs || undefined,
    workers: workers || undefined,
    kills: kills || undefined,
  });
  const sorted = [...report.redeliveryMs].sort((x, y) => x - y);
  console.log(
    JSON.stringify(
      {
        ...report,
        redeliveryMs: {
          count: sorted.length,
          median: sorted[Math.floor(sorted.length / 2)],
          max: sorted.at(-1),
        },
      },
      null,
      2,
    ),
  );
}
