import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type * as Core from '../src/index.js';
import { tracePolicy, traceQueue, traceWorker } from '../src/observe/otel/index.js';
import { argValue, fromSamples, median, report } from './lib.js';
import { exportRevision } from './revision.js';

type Lib = typeof Core;
type SqliteCtor = typeof import('../src/stores/sqlite/index.js').SqliteStore;

const JOBS = Number(argValue('jobs') ?? 20_000);
const SAMPLES = Number(argValue('samples') ?? 3);
const CALLS = Number(argValue('calls') ?? 200_000);
const CONCURRENCY = 50;
const STORES = (argValue('stores') ?? 'memory,sqlite').split(',') as ('memory' | 'sqlite')[];
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(path.join(tmpdir(), 'faultline-bench-otel-'));
let files = 0;

interface Side {
  readonly label: string;
  readonly lib: Lib;
  readonly Sqlite: SqliteCtor;
}

/** CPU time (user + system) of this process since `from`, in ms. */
function cpuMs(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
}

/**
 * Enqueue and processing rates of one run, in jobs per CPU-second of this process (SQLite and
 * the memory store run in it, so that is all the work): on a machine shared with other busy
 * processes wall-clock rates moved 10× between identical runs, CPU time far less.
 * `instrument` may wrap the queue and worker.
 */
async function queueRun(
  side: Side,
  storeKind: 'memory' | 'sqlite',
  instrument?: (q: Core.Queue, w: Core.Worker) => void,
): Promise<[number, number]> {
  const store =
    storeKind === 'memory'
      ? new side.lib.MemoryStore()
      : new side.Sqlite(path.join(scratch, `q${files++}.db`));
  const queue = new side.lib.Queue<{ n: number }>(store, 'bench');
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = new side.lib.Worker<{ n: number }>(queue, () => undefined, {
    concurrency: CONCURRENCY,
    pollMs: 20,
    pruneEveryMs: Number.POSITIVE_INFINITY,
  });
  instrument?.(queue as Core.Queue, worker as Core.Worker);
  worker.events.on('completed', () => {
    if (++done === JOBS) finish();
  });
  const c0 = process.cpuUsage();
  for (let start = 0; start < JOBS; start += 1_000) {
    await queue.enqueueMany(
      Array.from({ length: Math.min(1_000, JOBS - start) }, (_, i) => ({
        payload: { n: start + i },
      })),
    );
  }
  const enqueueMs = cpuMs(c0);
  const c1 = process.cpuUsage();
  worker.start();
  await finished;
  const processMs = cpuMs(c1);
  await worker.stop();
  await store.close();
  return [(JOBS / enqueueMs) * 1000, (JOBS / processMs) * 1000];
}

async function sideBySide(base: Side, work: Side): Promise<void> {
  for (const kind of STORES) {
    const enqueue: [number[], number[]] = [[], []];
    const processed: [number[], number[]] = [[], []];
    await queueRun(base, kind);
    await queueRun(work, kind);
    for (let s = 0; s < SAMPLES; s++) {
      for (const i of s % 2 === 0 ? [0, 1] : [1, 0]) {
        const [e, p] = await queueRun(i === 0 ? base : work, kind);
        enqueue[i]!.push(e);
        processed[i]!.push(p);
      }
    }
    report(
      [
        fromSamples(`${base.label} ${kind}: enqueue`, enqueue[0], 'jobs/CPU-s'),
        fromSamples(`${work.label} ${kind}: enqueue`, enqueue[1], 'jobs/CPU-s'),
        fromSamples(`${base.label} ${kind}: process`, processed[0], 'jobs/CPU-s'),
        fromSamples(`${work.label} ${kind}: process`, processed[1], 'jobs/CPU-s'),
      ],
      'jobs/CPU-s',
    );
    const ratio = (a: number[], b: number[]) => ((median(b) / median(a)) * 100).toFixed(1);
    console.log(
      `  ${kind}: working tree / base = enqueue ${ratio(enqueue[0], enqueue[1])} %, process ${ratio(processed[0], processed[1])} %\n`,
    );
  }
}

async function tracingCost(work: Side): Promise<void> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const traced = (q: Core.Queue, w: Core.Worker) => {
    traceQueue(q, { tracerProvider: provider });
    traceWorker(w, { tracerProvider: provider });
  };
  for (const kind of STORES) {
    const plain: number[][] = [[], []];
    const withSdk: number[][] = [[], []];
    for (let s = 0; s < SAMPLES; s++) {
      const a = await queueRun(work, kind);
      exporter.reset();
      const b = await queueRun(work, kind, traced);
      exporter.reset();
      plain[0]!.push(a[0]);
      plain[1]!.push(a[1]);
      withSdk[0]!.push(b[0]);
      withSdk[1]!.push(b[1]);
    }
    const us = (fast: number[], slow: number[]) =>
      ((1 / median(slow) - 1 / median(fast)) * 1e6).toFixed(1);
    console.log(
      `  ${kind}, traced with the SDK: enqueue ${Math.round(median(withSdk[0]!))} vs ${Math.round(median(plain[0]!))} jobs/CPU-s (+${us(plain[0]!, withSdk[0]!)} CPU-µs/job), ` +
        `process ${Math.round(median(withSdk[1]!))} vs ${Math.round(median(plain[1]!))} jobs/CPU-s (+${us(plain[1]!, withSdk[1]!)} CPU-µs/job)`,
    );
  }
}

async function policyCost(work: Side): Promise<void> {
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())],
  });
  const tracer = provider.getTracer('bench');
  const fn = async () => 1;
  const make = () =>
    work.lib.pipeline(work.lib.retry(), work.lib.circuitBreaker(), work.lib.timeout(30_000));
  const plainPolicy = make();
  const tracedPolicy = make();
  tracePolicy(tracedPolicy);
  const loop = async (policy: ReturnType<typeof make>) => {
    const span = tracer.startSpan('request');
    return context.with(trace.setSpan(context.active(), span), async () => {
      const start = process.cpuUsage();
      for (let i = 0; i < CALLS; i++) await policy.execute(fn);
      span.end();
      return (cpuMs(start) * 1e6) / CALLS;
    });
  };
  const samples: [number[], number[]] = [[], []];
  for (let round = 0; round < 2; round++) {
    await loop(plainPolicy);
    await loop(tracedPolicy);
  }
  for (let s = 0; s < 9; s++) {
    for (const i of s % 2 === 0 ? [0, 1] : [1, 0])
      samples[i]!.push(await loop(i === 0 ? plainPolicy : tracedPolicy));
  }
  report(
    [
      fromSamples('pipeline(retry, breaker, timeout), in a span', samples[0], 'CPU-ns/call'),
      fromSamples('the same with tracePolicy', samples[1], 'CPU-ns/call'),
    ],
    'CPU-ns/call',
  );
  console.log(
    `  tracePolicy adds ${(median(samples[1]) - median(samples[0])).toFixed(1)} CPU-ns per successful call\n`,
  );
}

/**
 * What the Node SDK registers besides the providers: the AsyncLocalStorage context manager and
 * W3C propagation. Not for section 1 (no SDK): the context manager slows every promise a little.
 */
let registered = false;
function registerSdkGlobals(): void {
  if (registered) return;
  registered = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

async function main(): Promise<void> {
  const revision = argValue('base') ?? 'HEAD';
  const baseDir = exportRevision(repo, revision, { linkModules: true });
  try {
    const load = async (root: string, label: string): Promise<Side> => ({
      label,
      lib: (await import(pathToFileURL(path.join(root, 'src/index.ts')).href)) as Lib,
      Sqlite: (
        (await import(pathToFileURL(path.join(root, 'src/stores/sqlite/index.ts')).href)) as {
          SqliteStore: SqliteCtor;
        }
      ).SqliteStore,
    });
    const base = await load(baseDir, revision);
    const work = await load(repo, 'working tree');
    const only = argValue('only');
    if (only === undefined || only === 'queue') {
      console.log(
        `# 1. no SDK, no instrumentation: ${JOBS} jobs, concurrency ${CONCURRENCY}, ${SAMPLES} samples per side`,
      );
      await sideBySide(base, work);
    }
    if (only === undefined || only === 'tracing') {
      console.log('# 2. traceQueue + traceWorker with the SDK and an in-memory exporter');
      registerSdkGlobals();
      await tracingCost(work);
    }
    if (only === undefined || only === 'policy') {
      console.log(`\n# 3. policy overhead, ${CALLS} sequential calls per sample`);
      registerSdkGlobals();
      await policyCost(work);
    }
  } finally {
    rmSync(baseDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
