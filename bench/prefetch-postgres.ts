/**
 * A/B of the worker's `prefetch` on the PostgreSQL store (127.0.0.1:5432, database `test`, a
 * fresh schema per run, dropped afterwards): 20,000 no-op jobs, concurrency 50, start → last
 * completion, the variants interleaved so load changes hit them alike.
 *
 *   npx tsx bench/prefetch-postgres.ts [--variants 0,default,300] [--rounds 2] [--jobs 20000]
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import pg from 'pg';
import { Queue } from '../src/durable/queue.js';
import { Worker } from '../src/durable/worker.js';
import { PostgresStore } from '../src/stores/postgres/index.js';
import { argValue } from './lib.js';

const URL = process.env.FAULTLINE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const JOBS = Number(argValue('jobs') ?? 20_000);
const ROUNDS = Number(argValue('rounds') ?? 2);
const VARIANTS = (argValue('variants') ?? '0,default').split(',');

async function run(prefetch: number | undefined): Promise<number> {
  const schema = `ft_bench_prefetch_${randomBytes(3).toString('hex')}`;
  const store = await PostgresStore.open({ connectionString: URL, schema });
  try {
    const queue = new Queue<{ n: number }>(store, 'bench');
    for (let start = 0; start < JOBS; start += 1_000)
      await queue.enqueueMany(
        Array.from({ length: Math.min(1_000, JOBS - start) }, (_, i) => ({
          payload: { n: start + i },
        })),
      );
    let done = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const worker = new Worker(queue, () => {}, {
      concurrency: 50,
      ...(prefetch === undefined ? {} : { prefetch }),
    });
    worker.events.on('completed', () => ++done === JOBS && finish());
    const t0 = performance.now();
    worker.start();
    await finished;
    const rate = (JOBS / (performance.now() - t0)) * 1_000;
    await worker.stop();
    return rate;
  } finally {
    await store.close();
    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

for (let round = 1; round <= ROUNDS; round++)
  for (const variant of VARIANTS) {
    const rate = await run(variant === 'default' ? undefined : Number(variant));
    console.log(
      `round ${round}, prefetch ${variant}: ${rate.toFixed(0)} jobs/s (load average ${loadavg()[0]!.toFixed(1)})`,
    );
  }
process.exit(0);
