/**
 * The Redis store against BullMQ on the same Redis (127.0.0.1:6379), in the same run:
 * 20,000 no-op jobs, concurrency 50; enqueue jobs/s and end-to-end processing jobs/s, and again
 * with 10% of the jobs failing once (retried at once by both).
 *
 *   npx tsx bench/queue-redis.ts [--jobs 20000] [--samples 3] [--json]
 */
import { randomBytes } from 'node:crypto';
import { Queue as BullQueue, Worker as BullWorker } from 'bullmq';
import { Redis } from 'ioredis';
import { argValue, type BenchResult, fromSamples, report } from './lib.js';
import { deleteKeys, redisStoreRun } from './redis-queue-case.js';

const URL = process.env.FAULTLINE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const JOBS = Number(argValue('jobs') ?? 20_000);
const SAMPLES = Number(argValue('samples') ?? 3);
const CONCURRENCY = 50;
const ENQUEUE_CHUNK = 1_000;

const failsOnce = (n: number, failing: boolean) => failing && n % 10 === 0;
const transient = () =>
  Object.assign(new Error('connection reset (bench)'), { code: 'ECONNRESET' });
const perSecond = (jobs: number, ms: number) => (jobs / ms) * 1_000;

const faultlineRun = (failing: boolean) =>
  redisStoreRun({ url: URL, jobs: JOBS, concurrency: CONCURRENCY, failing });

/** One BullMQ run, same shape: jobs added in bulk, a worker at concurrency 50, retry at once. */
async function bullRun(failing: boolean): Promise<[number, number]> {
  const prefix = `bullbench-${randomBytes(4).toString('hex')}`;
  const connection = new Redis(URL, { maxRetriesPerRequest: null });
  const queue = new BullQueue('bench', { connection, prefix });
  const t0 = performance.now();
  for (let start = 0; start < JOBS; start += ENQUEUE_CHUNK) {
    await queue.addBulk(
      Array.from({ length: Math.min(ENQUEUE_CHUNK, JOBS - start) }, (_, i) => ({
        name: 'job',
        data: { n: start + i },
        opts: { attempts: 2, removeOnComplete: 10_000, removeOnFail: 100_000 },
      })),
    );
  }
  const enqueueMs = performance.now() - t0;
  let done = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const t1 = performance.now();
  const worker = new BullWorker(
    'bench',
    async (job) => {
      if (job.attemptsMade === 0 && failsOnce(job.data.n as number, failing)) throw transient();
    },
    {
      connection: new Redis(URL, { maxRetriesPerRequest: null }),
      prefix,
      concurrency: CONCURRENCY,
    },
  );
  worker.on('completed', () => {
    if (++done === JOBS) finish();
  });
  await finished;
  const processMs = performance.now() - t1;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  await deleteKeys(URL, prefix);
  return [perSecond(JOBS, enqueueMs), perSecond(JOBS, processMs)];
}

const cases: { name: string; run: () => Promise<[number, number]>; enqueueName?: string }[] = [
  {
    name: 'faultline redis: processing',
    enqueueName: 'faultline redis: enqueue',
    run: () => faultlineRun(false),
  },
  { name: 'bullmq: processing', enqueueName: 'bullmq: enqueue', run: () => bullRun(false) },
  { name: 'faultline redis: processing, 10% fail once', run: () => faultlineRun(true) },
  { name: 'bullmq: processing, 10% fail once', run: () => bullRun(true) },
];

// Samples interleave the four cases, so a load change on the machine hits them all alike.
const enqueue = new Map<string, number[]>();
const processing = new Map<string, number[]>();
for (const c of cases) await c.run(); // warm-up, not measured: JIT and script caches settle
for (let i = 0; i < SAMPLES; i++) {
  for (const c of cases) {
    const [e, p] = await c.run();
    if (c.enqueueName) enqueue.set(c.enqueueName, [...(enqueue.get(c.enqueueName) ?? []), e]);
    processing.set(c.name, [...(processing.get(c.name) ?? []), p]);
  }
}
const results: BenchResult[] = [];
for (const c of cases) {
  if (c.enqueueName)
    results.push(fromSamples(c.enqueueName, enqueue.get(c.enqueueName)!, 'jobs/s'));
  results.push(fromSamples(c.name, processing.get(c.name)!, 'jobs/s'));
}
const byName = new Map(results.map((r) => [r.name, r.median]));
const ratio = (a: string, b: string) => (byName.get(a)! / byName.get(b)!).toFixed(2);
console.log(
  `faultline redis / bullmq processing: ${ratio('faultline redis: processing', 'bullmq: processing')}x`,
);
console.log(
  `faultline redis / bullmq processing, 10% fail once: ${ratio('faultline redis: processing, 10% fail once', 'bullmq: processing, 10% fail once')}x`,
);
report(results, 'jobs/s');
process.exit(0);
