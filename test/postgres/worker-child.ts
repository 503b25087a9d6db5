/**
 * A worker process for the PostgreSQL fault tests: runs Workers on a PostgresStore and reports
 * on stdout, one line per event, so the parent can kill it or break its connections and audit:
 *   S <jobId> <wallMs>   handler started      E <jobId> <wallMs>   handler ended
 *   C <jobId>            completion recorded in the store (the settle applied)
 *   READY                claiming
 * Env: PG_URL, SCHEMA, QUEUE, CONCURRENCY, LEASE_MS, WORK_MS (max random handler time),
 * MAX_STRIKES, APP_NAME (the connections' application_name, so the parent can find them),
 * QUERY_TIMEOUT_MS.
 */
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`worker-child needs ${name}`);
  return value;
};

const store = new PostgresStore({
  connectionString: env('PG_URL'),
  schema: env('SCHEMA'),
  poolOptions: {
    application_name: env('APP_NAME', 'faultline-test'),
    query_timeout: Number(env('QUERY_TIMEOUT_MS', '10000')),
    connectionTimeoutMillis: 2_000,
  },
});
const queue = new Queue<{ n: number }>(store, env('QUEUE'));
const workMs = Number(env('WORK_MS', '10'));
let lines: string[] = [];
const out = (line: string) => {
  lines.push(line);
  if (lines.length === 1) setImmediate(flush);
};
const flush = () => {
  const chunk = `${lines.join('\n')}\n`;
  lines = [];
  process.stdout.write(chunk);
};

const worker = new Worker(
  queue,
  async (_payload, context) => {
    out(`S ${context.job.id} ${Date.now()}`);
    // Simulated work: a real wait in this child, which the parent interrupts at random moments.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * workMs));
    out(`E ${context.job.id} ${Date.now()}`);
  },
  {
    concurrency: Number(env('CONCURRENCY', '5')),
    leaseMs: Number(env('LEASE_MS', '1000')),
    pollMs: 50,
    // The harness's kills are not poison jobs: a job hit by several kills must not be
    // dead-lettered by the crash-loop limit.
    maxStrikes: Number(env('MAX_STRIKES', '1000')),
    keepAlive: true,
  },
);
worker.events.on('completed', (e) => out(`C ${e.jobId}`));
worker.start();
out('READY');
process.on('SIGTERM', () => {
  void worker.stop({ deadlineMs: 2_000 }).then(async () => {
    flush();
    await store.close();
    process.exit(0);
  });
});
