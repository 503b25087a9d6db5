/**
 * Durable queues on PostgreSQL side by side, in the same run and on the same server
 * (127.0.0.1:5432, database `test`, a unique schema per system, dropped afterwards):
 * faultline's PostgreSQL store (its defaults), pg-boss and graphile-worker, each with its
 * defaults and with the settings its docs give for speed.
 *
 * - throughput: 20,000 no-op jobs, concurrency 50, end to end (start the worker → last
 *   completion); again with 10% of the jobs failing once. A system too slow to finish within
 *   `--cap-s` seconds is measured over what it finished by then.
 * - latency: one job every 20 ms from another connection into an idle worker, enqueue → handler start.
 * - transactional enqueue: BEGIN; INSERT a business row; [enqueue]; COMMIT — the extra time of the
 *   enqueue, one job and batches of 100.
 *
 *   npx tsx bench/queue-postgres.ts [--jobs 20000] [--samples 1] [--warmup 1] [--cap-s 30] [--json]
 *
 * `--warmup N`: N unmeasured throughput rounds of every system first (each capped at 3 s).
 *
 * pg-boss and graphile-worker are the newest releases that run on Node 20 (pg-boss 10, graphile-worker 0.17):
 * their current majors need Node 22.
 */
import { randomBytes } from 'node:crypto';
import { run as graphileRun, Logger, makeWorkerUtils, type Runner } from 'graphile-worker';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { Queue } from '../src/durable/queue.js';
import { Worker } from '../src/durable/worker.js';
import { constantBackoff } from '../src/recovery/backoff.js';
import { recoveryPlan } from '../src/recovery/plan.js';
import { PostgresStore } from '../src/stores/postgres/index.js';
import { argValue, type BenchResult, fromSamples, report } from './lib.js';

const URL = process.env.FAULTLINE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const JOBS = Number(argValue('jobs') ?? 20_000);
const SAMPLES = Number(argValue('samples') ?? 1);
const MEASURED_CAP_MS = Number(argValue('cap-s') ?? 30) * 1_000;
const WARMUP_CAP_MS = 3_000;
const WARMUPS = Number(argValue('warmup') ?? 1);
/** `--only throughput,latency,tx`: the parts to run (all by default). */
const PARTS = new Set((argValue('only') ?? 'throughput,latency,tx').split(','));
/** `--systems "faultline postgres (defaults)|graphile-worker (tuned)"`: the throughput cases to run (all by default). */
const SYSTEMS = argValue('systems')?.split('|');
/** How long a throughput run may take; shorter during the warm-up. */
let capMs = MEASURED_CAP_MS;
const CONCURRENCY = 50;
const CHUNK = 1_000;
const LATENCY_JOBS = 150;

const admin = new pg.Pool({ connectionString: URL, max: 4 });
const schemas: string[] = [];
const schema = (label: string) => {
  const name = `ft_bench_${label}_${randomBytes(3).toString('hex')}`;
  schemas.push(name);
  return name;
};
/**
 * Drops a throughput case's schema as soon as the case is over: its 20,000 churned rows would
 * otherwise keep autovacuum busy through the cases that follow (the latency runs above all).
 */
async function dropSchema(name: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  schemas.splice(schemas.indexOf(name), 1);
}
const failsOnce = (n: number, failing: boolean) => failing && n % 10 === 0;
const transient = () =>
  Object.assign(new Error('connection reset (bench)'), { code: 'ECONNRESET' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts completions; resolves when all are done or the cap is reached. Returns jobs/s. */
function completions(jobs: number) {
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    one: () => ++done === jobs && finish(),
    many: (n: number) => {
      done += n;
      if (done >= jobs) finish();
    },
    /**
     * Jobs/s from t0 to the last completion. `recorded` is for systems that count a job before
     * its completion is written (graphile-worker counts in the task, then writes completions in
     * batches): the clock stops when it says every completion is in the database.
     */
    async rate(t0: number, recorded?: () => Promise<boolean>): Promise<number> {
      let timer: NodeJS.Timeout | undefined;
      const capped = new Promise<'capped'>((resolve) => {
        timer = setTimeout(() => resolve('capped'), capMs);
      });
      const end = await Promise.race([finished, capped]);
      if (end !== 'capped' && recorded !== undefined)
        while (!(await Promise.race([recorded(), capped.then(() => true)])));
      clearTimeout(timer);
      return (done / (performance.now() - t0)) * 1_000;
    },
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// ---------------------------------------------------------------- faultline

async function faultlineThroughput(failing: boolean, asyncClaimCommit = false): Promise<number> {
  const name = schema('fl');
  const store = await PostgresStore.open({ connectionString: URL, schema: name, asyncClaimCommit });
  const queue = new Queue<{ n: number }>(store, 'bench');
  for (let start = 0; start < JOBS; start += CHUNK) {
    await queue.enqueueMany(
      Array.from({ length: Math.min(CHUNK, JOBS - start) }, (_, i) => ({
        payload: { n: start + i },
      })),
    );
  }
  const plan = recoveryPlan({
    rules: {
      network: { action: 'retry', maxAttempts: 2, backoff: constantBackoff({ delayMs: 0 }) },
    },
  });
  const done = completions(JOBS);
  const worker = new Worker<{ n: number }>(
    queue,
    (payload, context) => {
      if (context.attempt === 1 && failsOnce(payload.n, failing)) throw transient();
    },
    { concurrency: CONCURRENCY, plan },
  );
  worker.events.on('completed', done.one);
  const t0 = performance.now();
  worker.start();
  const rate = await done.rate(t0);
  await worker.stop();
  await store.close();
  await dropSchema(name);
  return rate;
}

async function faultlineLatency(): Promise<number[]> {
  const name = schema('fll');
  const workerStore = await PostgresStore.open({ connectionString: URL, schema: name });
  // The producer is "another process": its own store, so only NOTIFY can wake the worker.
  const producerStore = await PostgresStore.open({
    connectionString: URL,
    schema: name,
    listen: false,
  });
  const started = new Map<number, number>();
  const worker = new Worker<{ n: number }>(
    new Queue(workerStore, 'lat'),
    (p) => void started.set(p.n, performance.now()),
    { concurrency: CONCURRENCY },
  ).start();
  const producer = new Queue<{ n: number }>(producerStore, 'lat');
  await sleep(500);
  const latencies = await paced(async (n) => {
    await producer.enqueue({ n });
  }, started);
  await worker.stop();
  await workerStore.close();
  await producerStore.close();
  return latencies;
}

/** One enqueue every 20 ms; returns enqueue → start latencies (ms). */
async function paced(
  enqueue: (n: number) => Promise<void>,
  started: Map<number, number>,
): Promise<number[]> {
  const sent = new Map<number, number>();
  for (let n = 0; n < LATENCY_JOBS; n++) {
    const t = performance.now();
    sent.set(n, t);
    await enqueue(n);
    await sleep(Math.max(0, 20 - (performance.now() - t)));
  }
  for (let i = 0; i < 500 && started.size < LATENCY_JOBS; i++) await sleep(20);
  return [...sent].filter(([n]) => started.has(n)).map(([n, t]) => started.get(n)! - t);
}

// ---------------------------------------------------------------- pg-boss

async function bossStart(name: string): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: URL,
    schema: name,
    max: 10,
    supervise: false,
    schedule: false,
  });
  boss.on('error', () => {});
  await boss.start();
  await boss.createQueue('bench', { name: 'bench', retryLimit: 1, retryDelay: 0 });
  return boss;
}

async function bossThroughput(tuned: boolean, failing: boolean): Promise<number> {
  const name = schema('boss');
  const boss = await bossStart(name);
  for (let start = 0; start < JOBS; start += CHUNK) {
    await boss.insert(
      Array.from({ length: Math.min(CHUNK, JOBS - start) }, (_, i) => ({
        name: 'bench',
        data: { n: start + i },
        retryLimit: 1,
        retryDelay: 0,
      })),
    );
  }
  const done = completions(JOBS);
  const t0 = performance.now();
  const handle = async (jobs: PgBoss.Job<{ n: number }>[]) => {
    const bad = jobs.filter(
      (j) => failsOnce(j.data.n, failing) && !(j as { retryCount?: number }).retryCount,
    );
    const good = jobs.filter((j) => !bad.includes(j));
    // A batch handler settles jobs one by one only by hand: fail the failing ones, complete the rest.
    if (bad.length > 0)
      await boss.fail(
        'bench',
        bad.map((j) => j.id),
      );
    if (good.length > 0)
      await boss.complete(
        'bench',
        good.map((j) => j.id),
      );
    done.many(good.length);
  };
  if (tuned) {
    // Its docs' levers in this major: fetch in batches, poll at the shortest interval allowed.
    await boss.work(
      'bench',
      { batchSize: CONCURRENCY, pollingIntervalSeconds: 0.5, includeMetadata: true },
      handle as never,
    );
  } else {
    // Concurrency 50 in pg-boss 10 is 50 workers, each fetching one job per 2 s poll by default.
    for (let i = 0; i < CONCURRENCY; i++)
      await boss.work('bench', { includeMetadata: true }, handle as never);
  }
  const rate = await done.rate(t0);
  await boss.stop({ graceful: false, wait: true, timeout: 2_000 });
  await dropSchema(name);
  return rate;
}

async function bossLatency(tuned: boolean): Promise<number[]> {
  const boss = await bossStart(schema('bossl'));
  const started = new Map<number, number>();
  await boss.work<{ n: number }>(
    'bench',
    tuned ? { batchSize: CONCURRENCY, pollingIntervalSeconds: 0.5 } : {},
    async (jobs) => {
      for (const j of jobs) started.set(j.data.n, performance.now());
    },
  );
  await sleep(500);
  const latencies = await paced(async (n) => {
    await boss.send('bench', { n });
  }, started);
  await boss.stop({ graceful: false, wait: true, timeout: 2_000 });
  return latencies;
}

async function bossTxCost(client: pg.PoolClient, boss: PgBoss, n: number): Promise<void> {
  await boss.send(
    'bench',
    { n },
    {
      db: { executeSql: (text: string, values: unknown[]) => client.query(text, values) } as never,
    },
  );
}

// ---------------------------------------------------------------- graphile-worker

/** graphile-worker logs every failed attempt with its stack; the bench's failures are on purpose. */
const quiet = new Logger(() => () => {});

async function graphileStart(
  label: string,
  tuned: boolean,
  task: (payload: { n: number }, attempts: number) => void,
): Promise<{ runner: Runner; schema: string }> {
  const name = schema(label);
  const runner = await graphileRun({
    connectionString: URL,
    schema: name,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    logger: quiet,
    taskList: {
      bench: async (payload, helpers) => task(payload as { n: number }, helpers.job.attempts),
    },
    ...(tuned
      ? {
          preset: {
            worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 },
          },
        }
      : {}),
  });
  return { runner, schema: name };
}

async function graphileThroughput(tuned: boolean, failing: boolean): Promise<number> {
  const name = schema('gw');
  const utils = await makeWorkerUtils({ connectionString: URL, schema: name, logger: quiet });
  await utils.migrate();
  for (let start = 0; start < JOBS; start += CHUNK) {
    await utils.addJobs(
      Array.from({ length: Math.min(CHUNK, JOBS - start) }, (_, i) => ({
        identifier: 'bench',
        payload: { n: start + i },
        maxAttempts: 2,
      })),
    );
  }
  const done = completions(JOBS);
  const t0 = performance.now();
  const runner = await graphileRun({
    connectionString: URL,
    schema: name,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    logger: quiet,
    taskList: {
      bench: async (payload, helpers) => {
        if (helpers.job.attempts === 1 && failsOnce((payload as { n: number }).n, failing))
          throw transient();
        done.one();
      },
    },
    ...(tuned
      ? {
          preset: {
            worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 },
          },
        }
      : {}),
  });
  // Completed jobs leave graphile-worker's table: all are recorded when it is empty.
  const recorded = async () =>
    (await admin.query(`SELECT NOT EXISTS (SELECT 1 FROM "${name}"._private_jobs) AS empty`))
      .rows[0].empty as boolean;
  const rate = await done.rate(t0, recorded);
  await runner.stop();
  await utils.release();
  await dropSchema(name);
  return rate;
}

async function graphileLatency(tuned: boolean): Promise<number[]> {
  const started = new Map<number, number>();
  const { runner, schema: name } = await graphileStart(
    'gwl',
    tuned,
    (p) => void started.set(p.n, performance.now()),
  );
  const utils = await makeWorkerUtils({ connectionString: URL, schema: name });
  await sleep(500);
  const latencies = await paced(async (n) => {
    await utils.addJob('bench', { n });
  }, started);
  await runner.stop();
  await utils.release();
  return latencies;
}

// ---------------------------------------------------------------- transactional enqueue

/** Median ms of BEGIN; INSERT; [extra]; COMMIT over `rounds`, minus the same without the extra. */
async function txCost(
  label: string,
  extra: (client: pg.PoolClient, n: number) => Promise<void>,
  rounds = 300,
): Promise<number> {
  const client = await admin.connect();
  const table = `${schemas[0] ?? 'public'}.bench_orders_${randomBytes(3).toString('hex')}`;
  try {
    await client.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, n int)`);
    const once = async (withExtra: boolean, n: number) => {
      const t = performance.now();
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${table} (n) VALUES ($1)`, [n]);
      if (withExtra) await extra(client, n);
      await client.query('COMMIT');
      return performance.now() - t;
    };
    for (let i = 0; i < 30; i++) await once(i % 2 === 0, i);
    const base: number[] = [];
    const withIt: number[] = [];
    // Interleaved, so load changes hit both alike.
    for (let i = 0; i < rounds; i++) {
      base.push(await once(false, i));
      withIt.push(await once(true, i));
    }
    const cost = percentile(withIt, 50) - percentile(base, 50);
    console.log(
      `  ${label}: transaction ${percentile(base, 50).toFixed(2)} ms alone, ${percentile(withIt, 50).toFixed(2)} ms with the enqueue`,
    );
    return cost;
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    client.release();
  }
}

// ---------------------------------------------------------------- main

const samples = new Map<string, number[]>();
const add = (name: string, value: number, unit = 'jobs/s') => {
  samples.set(`${name}|${unit}`, [...(samples.get(`${name}|${unit}`) ?? []), value]);
  console.log(`${name}: ${value.toFixed(unit === 'jobs/s' ? 0 : 2)} ${unit}`);
};
const throughput = (
  [
    ['faultline postgres (defaults)', (f) => faultlineThroughput(f)],
    ['faultline postgres (asyncClaimCommit)', (f) => faultlineThroughput(f, true)],
    ['pg-boss (defaults)', (f) => bossThroughput(false, f)],
    ['pg-boss (tuned)', (f) => bossThroughput(true, f)],
    ['graphile-worker (defaults)', (f) => graphileThroughput(false, f)],
    ['graphile-worker (tuned)', (f) => graphileThroughput(true, f)],
  ] satisfies [string, (failing: boolean) => Promise<number>][]
).filter(([label]) => SYSTEMS === undefined || SYSTEMS.includes(label));

/** The extra time of an enqueue inside a business transaction, per system. */
async function transactionalEnqueue(): Promise<void> {
  const txStore = await PostgresStore.open({
    connectionString: URL,
    schema: schema('fltx'),
    listen: false,
  });
  const txQueue = new Queue<{ n: number }>(txStore, 'tx');
  const boss = await bossStart(schema('bosstx'));
  const gw = await makeWorkerUtils({ connectionString: URL, schema: schema('gwtx') });
  await gw.migrate();
  const gwSchema = schemas[schemas.length - 1]!;
  add(
    'faultline postgres: enqueue({ tx }) extra per job',
    await txCost('faultline', (client, n) => txQueue.enqueue({ n }, { tx: client }).then(() => {})),
    'ms',
  );
  add(
    'faultline postgres: enqueueMany({ tx }) of 100, extra per job',
    (await txCost(
      'faultline x100',
      (client, n) =>
        txQueue
          .enqueueMany(
            Array.from({ length: 100 }, (_, i) => ({ payload: { n: n * 100 + i } })),
            { tx: client },
          )
          .then(() => {}),
      100,
    )) / 100,
    'ms',
  );
  add(
    'pg-boss: send({ db }) extra per job',
    await txCost('pg-boss', (client, n) => bossTxCost(client, boss, n)),
    'ms',
  );
  add(
    'graphile-worker: add_job in the transaction, extra per job',
    await txCost('graphile-worker', (client, n) =>
      client
        .query(`SELECT "${gwSchema}".add_job('bench', json_build_object('n', $1::int))`, [n])
        .then(() => {}),
    ),
    'ms',
  );
  await boss.stop({ graceful: false, wait: true, timeout: 2_000 });
  await gw.release();
  await txStore.close();
}

try {
  const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
  console.log(
    `${JOBS} jobs, concurrency ${CONCURRENCY}, ${SAMPLES} sample(s), load average ${load} at start`,
  );
  // Unmeasured rounds first: the first run of a system in this process compiles its code (and
  // the driver's), which cut faultline's first run here to half its later rate. Each system gets
  // the same warm-up, capped at 3 s (pg-boss with its defaults would take minutes).
  capMs = WARMUP_CAP_MS;
  for (let i = 0; i < WARMUPS && PARTS.has('throughput'); i++)
    for (const [, run] of throughput) await run(false);
  capMs = MEASURED_CAP_MS;
  for (let i = 0; i < SAMPLES && PARTS.has('throughput'); i++) {
    for (const failing of [false, true]) {
      for (const [label, run] of throughput)
        add(`${label}: processing${failing ? ', 10% fail once' : ''}`, await run(failing));
    }
  }
  const latency: [string, () => Promise<number[]>][] = [
    ['faultline postgres (defaults)', faultlineLatency],
    ['pg-boss (defaults)', () => bossLatency(false)],
    ['pg-boss (tuned)', () => bossLatency(true)],
    ['graphile-worker (defaults)', () => graphileLatency(false)],
    ['graphile-worker (tuned)', () => graphileLatency(true)],
  ];
  for (const [label, run] of PARTS.has('latency') ? latency : []) {
    const values = await run();
    add(`${label}: enqueue-to-start p50`, percentile(values, 50), 'ms');
    add(`${label}: enqueue-to-start p99`, percentile(values, 99), 'ms');
  }
  // Transactional enqueue: faultline with { tx }, pg-boss with { db }, graphile-worker's add_job in the transaction.
  if (PARTS.has('tx')) await transactionalEnqueue();
} finally {
  for (const name of schemas)
    await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`).catch(() => undefined);
  await admin.end();
}

const results: BenchResult[] = [...samples].map(([key, values]) => {
  const [name, unit] = key.split('|') as [string, string];
  return fromSamples(name, values, unit);
});
const median = (name: string) => results.find((r) => r.name === name)?.median ?? Number.NaN;
for (const variant of ['processing', 'processing, 10% fail once']) {
  for (const peer of ['graphile-worker (tuned)', 'pg-boss (tuned)']) {
    const ratio =
      median(`faultline postgres (defaults): ${variant}`) / median(`${peer}: ${variant}`);
    // Only for cases this run measured (`--only`, `--systems` leave some out).
    if (Number.isFinite(ratio))
      console.log(`faultline postgres / ${peer} ${variant}: ${ratio.toFixed(2)}x`);
  }
}
report(results, 'mixed');
process.exit(0);
