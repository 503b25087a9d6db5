/**
 * Durable queues side by side, in the same run: faultline on SQLite, BullMQ on the local Redis
 * (127.0.0.1:6379, a unique prefix, deleted afterwards) and plainjob (SQLite).
 * 20,000 no-op jobs at concurrency 50: enqueue jobs/s and end-to-end processing jobs/s, and again
 * with 10% of the jobs failing once (retried at once).
 *
 *   npx tsx bench/queue.ts [--jobs 20000] [--samples 3] [--json]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Queue as BullQueue, Worker as BullWorker } from 'bullmq';
import { Redis } from 'ioredis';
import { better, defineQueue, defineWorker } from 'plainjob';
import { Queue } from '../src/durable/queue.js';
import { Worker } from '../src/durable/worker.js';
import { constantBackoff } from '../src/recovery/backoff.js';
import { recoveryPlan } from '../src/recovery/plan.js';
import { SqliteStore } from '../src/stores/sqlite/index.js';
import { argValue, type BenchResult, fromSamples, report } from './lib.js';
import { redisStoreRun } from './redis-queue-case.js';

const REDIS_URL = process.env.FAULTLINE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const JOBS = Number(argValue('jobs') ?? 20_000);
const SAMPLES = Number(argValue('samples') ?? 3);
const CONCURRENCY = 50;
const ENQUEUE_CHUNK = 1_000;

const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-queue-'));
let files = 0;
const freshFile = () => join(dir, `bench-${files++}.db`);
const failsOnce = (n: number, failing: boolean) => failing && n % 10 === 0;
const transient = () =>
  Object.assign(new Error('connection reset (bench)'), { code: 'ECONNRESET' });
const perSecond = (ms: number) => (JOBS / ms) * 1_000;
const chunks = () =>
  Array.from({ length: Math.ceil(JOBS / ENQUEUE_CHUNK) }, (_, c) => c * ENQUEUE_CHUNK);
const chunkOf = (start: number) =>
  Array.from({ length: Math.min(ENQUEUE_CHUNK, JOBS - start) }, (_, i) => start + i);

function completionLatch(): { finished: Promise<void>; one: () => void } {
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { finished, one: () => ++done === JOBS && finish() };
}

/** faultline on SQLite with default durability (WAL, synchronous=NORMAL). */
async function faultlineRun(failing: boolean): Promise<[number, number]> {
  const store = new SqliteStore(freshFile());
  const queue = new Queue<{ n: number }>(store, 'bench');
  const t0 = performance.now();
  for (const start of chunks())
    await queue.enqueueMany(chunkOf(start).map((n) => ({ payload: { n } })));
  const enqueueMs = performance.now() - t0;
  const plan = recoveryPlan({
    rules: {
      network: { action: 'retry', maxAttempts: 2, backoff: constantBackoff({ delayMs: 0 }) },
    },
  });
  const latch = completionLatch();
  const worker = new Worker<{ n: number }>(
    queue,
    (payload, context) => {
      if (context.attempt === 1 && failsOnce(payload.n, failing)) throw transient();
    },
    { concurrency: CONCURRENCY, plan, pollMs: 20, pruneEveryMs: Number.POSITIVE_INFINITY },
  );
  worker.events.on('completed', latch.one);
  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  worker.start();
  await latch.finished;
  const processMs = performance.now() - t1;
  const cpu = process.cpuUsage(cpu0);
  // SQLite runs in this process, so this is everything the work cost: a figure a loaded machine moves less.
  console.log(
    `  faultline sqlite${failing ? ', 10% fail once' : ''}: ${Math.round(JOBS / ((cpu.user + cpu.system) / 1e6))} jobs per CPU-second`,
  );
  await worker.stop();
  await store.close();
  return [perSecond(enqueueMs), perSecond(processMs)];
}

/** BullMQ: jobs added in bulk, one worker at concurrency 50, a failed job retried at once. */
async function bullRun(failing: boolean): Promise<[number, number]> {
  const prefix = `llbench-bull-${randomBytes(4).toString('hex')}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new BullQueue('bench', { connection, prefix });
  const t0 = performance.now();
  for (const start of chunks()) {
    await queue.addBulk(
      chunkOf(start).map((n) => ({
        name: 'job',
        data: { n },
        opts: { attempts: 2, removeOnComplete: 10_000 },
      })),
    );
  }
  const enqueueMs = performance.now() - t0;
  const latch = completionLatch();
  const t1 = performance.now();
  const worker = new BullWorker(
    'bench',
    async (job) => {
      if (job.attemptsMade === 0 && failsOnce(job.data.n as number, failing)) throw transient();
    },
    { connection: workerConnection, prefix, concurrency: CONCURRENCY },
  );
  worker.on('completed', latch.one);
  await latch.finished;
  const processMs = performance.now() - t1;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  workerConnection.disconnect();
  return [perSecond(enqueueMs), perSecond(processMs)];
}

/**
 * plainjob on SQLite: its workers take one job at a time, so 50 of them give concurrency 50.
 * It has no retry: a failed job is added again, which is what a retry would do.
 */
async function plainjobRun(failing: boolean): Promise<[number, number]> {
  const db = new Database(freshFile());
  db.pragma('journal_mode = WAL');
  const queue = defineQueue({
    connection: better(db),
    logger: silent,
    maintenanceInterval: 3_600_000,
  });
  const t0 = performance.now();
  for (const start of chunks())
    queue.addMany(
      'job',
      chunkOf(start).map((n) => ({ n, retry: false })),
    );
  const enqueueMs = performance.now() - t0;
  const latch = completionLatch();
  const workers = Array.from({ length: CONCURRENCY }, () =>
    defineWorker(
      'job',
      (job) => {
        const data = JSON.parse(job.data) as { n: number; retry: boolean };
        if (!data.retry && failsOnce(data.n, failing)) throw transient();
      },
      {
        queue,
        pollIntervall: 20,
        logger: silent,
        onCompleted: latch.one,
        onFailed: (job) => queue.add('job', { ...(JSON.parse(job.data) as object), retry: true }),
      },
    ),
  );
  const t1 = performance.now();
  const running = workers.map((w) => w.start());
  await latch.finished;
  const processMs = performance.now() - t1;
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(running);
  queue.close();
  db.close();
  return [perSecond(enqueueMs), perSecond(processMs)];
}

const silent = { error() {}, warn() {}, info() {}, debug() {} };

/** A run that hangs names itself instead of stalling the whole bench. */
function withinLimit<T>(run: Promise<T>, label: string, ms = 300_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`bench/queue: ${label} did not finish within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([run, limit]).finally(() => clearTimeout(timer));
}

const systems = [
  { label: 'faultline sqlite', run: faultlineRun },
  { label: 'bullmq (redis)', run: bullRun },
  { label: 'plainjob (sqlite)', run: plainjobRun },
  {
    label: 'faultline redis',
    run: (failing: boolean) =>
      redisStoreRun({ url: REDIS_URL, jobs: JOBS, concurrency: CONCURRENCY, failing }),
  },
];

const samples = new Map<string, number[]>();
const add = (name: string, value: number) =>
  samples.set(name, [...(samples.get(name) ?? []), value]);
try {
  for (const s of systems) {
    console.log(`warm-up: ${s.label}`);
    await s.run(false); // not measured: JIT and caches settle
  }
  // Samples interleave the systems, so a change of load on the machine hits them all alike.
  for (let i = 0; i < SAMPLES; i++) {
    for (const failing of [false, true]) {
      for (const s of systems) {
        const [enqueue, processing] = await withinLimit(
          s.run(failing),
          `${s.label}${failing ? ', 10% fail once' : ''}`,
        );
        console.log(
          `${s.label}${failing ? ', 10% fail once' : ''}: enqueue ${Math.round(enqueue)} jobs/s, processing ${Math.round(processing)} jobs/s`,
        );
        if (!failing) add(`${s.label}: enqueue`, enqueue);
        add(`${s.label}: processing${failing ? ', 10% fail once' : ''}`, processing);
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const results: BenchResult[] = [...samples].map(([name, values]) =>
  fromSamples(name, values, 'jobs/s'),
);
const median = (name: string) => results.find((r) => r.name === name)!.median;
console.log(`${JOBS} jobs, concurrency ${CONCURRENCY}, ${SAMPLES} samples each (median shown)`);
for (const other of ['bullmq (redis)', 'plainjob (sqlite)']) {
  console.log(
    `faultline sqlite / ${other} processing: ${(median('faultline sqlite: processing') / median(`${other}: processing`)).toFixed(2)}x`,
  );
}
for (const variant of ['processing', 'processing, 10% fail once']) {
  console.log(
    `faultline redis / bullmq (redis) ${variant}: ${(median(`faultline redis: ${variant}`) / median(`bullmq (redis): ${variant}`)).toFixed(2)}x`,
  );
}
report(results, 'jobs/s');
process.exit(0);
