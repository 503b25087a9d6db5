/**
 * Queue throughput of the working tree against a base revision, in one process, side by side:
 * the faultline cases of bench/queue.ts (SQLite) and bench/queue-redis.ts (Redis at
 * 127.0.0.1:6379, a unique prefix, deleted afterwards), the memory store, and PostgreSQL
 * (127.0.0.1:5432, database `test`, a schema per run, dropped afterwards; `--stores postgres`). 20,000 no-op jobs
 * enqueued in chunks of 1,000, then one Worker at concurrency 50, with no failures and with 10%
 * failing once (retried at once). Samples interleave (A B, B A, ...) so a busy machine hits both
 * sides alike. Reported per side: enqueue and processing jobs/s (wall clock), and jobs per
 * CPU-second of this process (steadier on a shared machine; for Redis it leaves out the server).
 *
 *   npx tsx bench/queue-ab.ts [--base HEAD~1] [--stores sqlite,redis,memory,postgres] [--samples 10] [--jobs 20000]
 *
 * This is how "throughput does not drop" is checked: against the previous commit, or the start
 * of a round of work. The base's `src/`, `package.json` and `tsconfig.json` are exported with
 * `git archive` into a temporary folder that links this checkout's node_modules, removed after.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import type * as Core from '../src/index.js';
import { argValue, fromSamples, median, report } from './lib.js';
import { deleteKeys } from './redis-queue-case.js';
import { exportRevision } from './revision.js';

type StoreKind = 'memory' | 'sqlite' | 'redis' | 'postgres';

interface Side {
  readonly label: string;
  readonly lib: typeof Core;
  readonly makeStore: (kind: StoreKind) => Core.DurableStore;
}

const BASE = argValue('base') ?? 'HEAD~1';
const JOBS = Number(argValue('jobs') ?? 20_000);
const SAMPLES = Number(argValue('samples') ?? 10);
const STORES = (argValue('stores') ?? 'sqlite,redis,memory').split(',') as StoreKind[];
const REDIS_URL = process.env.FAULTLINE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POSTGRES_URL =
  process.env.FAULTLINE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schemas: string[] = [];
const CONCURRENCY = 50;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(path.join(tmpdir(), 'faultline-bench-queue-ab-'));
const prefixes: string[] = [];
let files = 0;

const transient = () =>
  Object.assign(new Error('connection reset (bench)'), { code: 'ECONNRESET' });

/** Loads a source tree's library and store classes. */
async function loadSide(label: string, src: string): Promise<Side> {
  const load = (file: string) => import(pathToFileURL(path.join(src, file)).href);
  const lib = (await load('index.ts')) as typeof Core;
  const { SqliteStore } = await load('stores/sqlite/index.ts');
  const { RedisStore } = await load('stores/redis/index.ts');
  const { PostgresStore } = await load('stores/postgres/index.ts');
  return {
    label,
    lib,
    makeStore: (kind) => {
      if (kind === 'memory') return new lib.MemoryStore();
      if (kind === 'sqlite') return new SqliteStore(path.join(scratch, `q${files++}.db`));
      if (kind === 'postgres') {
        const schema = `ft_ab_${randomBytes(4).toString('hex')}`;
        schemas.push(schema);
        return new PostgresStore({ connectionString: POSTGRES_URL, schema });
      }
      const prefix = `abbench-${randomBytes(4).toString('hex')}`;
      prefixes.push(prefix);
      return new RedisStore({ url: REDIS_URL, prefix });
    },
  };
}

/** One run: [enqueue jobs/s, processing jobs/s, enqueue jobs/CPU-s, processing jobs/CPU-s]. */
async function run(side: Side, kind: StoreKind, failing: boolean): Promise<number[]> {
  const { lib } = side;
  const store = side.makeStore(kind);
  const queue = new lib.Queue<{ n: number }>(store, 'bench');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let start = 0; start < JOBS; start += 1_000) {
    await queue.enqueueMany(
      Array.from({ length: Math.min(1_000, JOBS - start) }, (_, i) => ({
        payload: { n: start + i },
      })),
    );
  }
  const enqueueMs = performance.now() - t0;
  const enqueueCpu = process.cpuUsage(cpu0);
  const plan = lib.recoveryPlan({
    rules: { network: { action: 'retry', maxAttempts: 2, backoff: lib.constantBackoff(0) } },
  });
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = new lib.Worker<{ n: number }>(
    queue,
    (payload, context) => {
      if (failing && context.attempt === 1 && payload.n % 10 === 0) throw transient();
    },
    { concurrency: CONCURRENCY, plan, pollMs: 20, pruneEveryMs: Number.POSITIVE_INFINITY },
  );
  worker.events.on('completed', () => {
    if (++done === JOBS) finish();
  });
  const cpu1 = process.cpuUsage();
  const t1 = performance.now();
  worker.start();
  await finished;
  const processMs = performance.now() - t1;
  const processCpu = process.cpuUsage(cpu1);
  await worker.stop();
  await store.close();
  await dropSchemas();
  const perSecond = (ms: number) => (JOBS / ms) * 1_000;
  const cpuMs = (used: NodeJS.CpuUsage) => (used.user + used.system) / 1_000;
  return [
    perSecond(enqueueMs),
    perSecond(processMs),
    perSecond(cpuMs(enqueueCpu)),
    perSecond(cpuMs(processCpu)),
  ];
}

/** Drops the PostgreSQL runs' schemas: after each run, so their rows do not keep autovacuum busy. */
async function dropSchemas(): Promise<void> {
  if (schemas.length === 0) return;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  for (const schema of schemas.splice(0))
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
}

const METRICS = ['enqueue jobs/s', 'process jobs/s', 'enqueue jobs/CPU-s', 'process jobs/CPU-s'];

async function compare(base: Side, work: Side, kind: StoreKind, failing: boolean): Promise<void> {
  const samples = [base, work].map(() => METRICS.map(() => [] as number[]));
  // One warm-up run per side: the first run of a side pays for compiling its code.
  await run(base, kind, failing);
  await run(work, kind, failing);
  for (let s = 0; s < SAMPLES; s++) {
    for (const i of s % 2 === 0 ? [0, 1] : [1, 0]) {
      const values = await run(i === 0 ? base : work, kind, failing);
      for (const [m, value] of values.entries()) samples[i]![m]!.push(value);
    }
  }
  const title = `${kind}${failing ? ', 10% fail once' : ''}`;
  report(
    METRICS.flatMap((metric, m) =>
      [base, work].map((side, i) =>
        fromSamples(`${side.label} ${title}: ${metric}`, samples[i]![m]!, metric.split(' ')[1]!),
      ),
    ),
    'jobs/s',
  );
  const ratios = METRICS.map(
    (metric, m) =>
      `${metric} ${((median(samples[1]![m]!) / median(samples[0]![m]!)) * 100).toFixed(1)} %`,
  );
  console.log(`  ${title}: working tree / ${base.label} = ${ratios.join(', ')}\n`);
}

const baseDir = exportRevision(repo, BASE, { linkModules: true });
try {
  const rev = execFileSync('git', ['rev-parse', '--short', BASE], { cwd: repo }).toString().trim();
  const base = await loadSide(rev, path.join(baseDir, 'src'));
  const work = await loadSide('working tree', path.join(repo, 'src'));
  console.log(
    `# queue throughput, working tree vs ${rev}: ${JOBS} jobs, concurrency ${CONCURRENCY}, ${SAMPLES} samples per side`,
  );
  for (const kind of STORES)
    for (const failing of [false, true]) await compare(base, work, kind, failing);
} finally {
  rmSync(baseDir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
  for (const prefix of prefixes) await deleteKeys(REDIS_URL, `{${prefix}`);
  await dropSchemas();
}
