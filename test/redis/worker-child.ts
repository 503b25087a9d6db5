/**
 * A worker process for the multi-process tests: runs a Worker on a RedisStore and reports on
 * stdout, one line per event, so the parent can kill it at a random moment and audit afterwards:
 *   S <jobId> <wallMs>   handler started      E <jobId> <wallMs>   handler ended
 *   C <jobId>            completion recorded in the store (the settle applied)
 *   READY                claiming             I                    found nothing to claim
 * Env: REDIS_URL, PREFIX, QUEUE, CONCURRENCY, LEASE_MS, WORK_MS (max random handler time), MAX_STRIKES.
 */
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`worker-child needs ${name}`);
  return value;
};

const store = new RedisStore({
  url: env('REDIS_URL'),
  prefix: env('PREFIX'),
  connection: { commandTimeoutMs: Number(env('COMMAND_TIMEOUT_MS', '5000')) },
});
const queue = new Queue<{ n: number }>(store, env('QUEUE'));
const workMs = Number(env('WORK_MS', '10'));
let lines: string[] = [];
const out = (line: string) => {
  lines.push(line);
  if (lines.length === 1) setImmediate(flush);
};
const flush = () => {
  const chunk = lines.join('\n') + '\n';
  lines = [];
  process.stdout.write(chunk);
};

const worker = new Worker(
  queue,
  async (_payload, context) => {
    out(`S ${context.job.id} ${Date.now()}`);
    // Simulated work: a real wait in this child, which the parent kills at random moments.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * workMs));
    out(`E ${context.job.id} ${Date.now()}`);
  },
  {
    concurrency: Number(env('CONCURRENCY', '5')),
    leaseMs: Number(env('LEASE_MS', '1000')),
    pollMs: 50,
    // The harness's kills are not poison jobs: a job hit by several kills must not be
    // dead-lettered by the crash-loop limit.
    maxStrikes: Number(env('MAX_STRIKES', '3')),
    keepAlive: true,
  },
);
worker.events.on('completed', (e) => out(`C ${e.jobId}`));
// A line per empty poll, so the parent hears from an idle worker too.
worker.events.on('idle', () => out('I'));
worker.start();
out('READY');
process.on('SIGTERM', () => {
  void worker.stop({ deadlineMs: 2_000 }).then(async () => {
    flush();
    await store.close();
    process.exit(0);
  });
});
