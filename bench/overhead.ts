/**
 * What a resilience policy adds to a call that succeeds, faultline next to its peers.
 *
 *   npx tsx bench/overhead.ts [--json] [--runs 5] [--only <substring>]
 *
 * Every case runs in a fresh child process (no shared JIT state or heap), `--runs` times, the
 * runs of all cases interleaved; the figure is the median over runs of each run's median. Two
 * modes per case: sequential (`await run()` in a loop) and 1,000 calls in flight (`Promise.all`
 * of 1,000), both in ns per call, each a median of 7 samples of about 25 ms. Then heap bytes
 * per idle circuit breaker (10,000 created), and the retry-storm figure
 * (dependency calls per request through three nested retry layers, with and without a budget).
 *
 * Targets (issue 3): each faultline policy <= 50 ns over bare; the 4-policy pipeline <= 500 ns
 * per call; an idle breaker <= 400 B.
 */
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as cockatiel from 'cockatiel';
import OpossumBreaker from 'opossum';
import pRetry from 'p-retry';
import * as faultline from '../src/index.js';
import {
  argValue,
  type BenchResult,
  benchAsync,
  fromSamples,
  median,
  report,
  runInChild,
  wantsJson,
} from './lib.js';

type Run = () => Promise<unknown>;
interface Case {
  /** The peer case this one is compared with. */
  readonly peer?: string;
  readonly make: () => Run;
}

const fn = async (): Promise<number> => 1;

/** Policies engineer C owns, used when present (the bench runs on a partial tree too). */
interface LooseLib {
  circuitBreaker?: (options?: object) => faultline.Policy;
  bulkhead?: (options: object) => faultline.Policy;
  rateLimiter?: (options: object) => faultline.Policy;
  adaptive?: (options?: object) => faultline.Policy;
}
const loose = faultline as unknown as LooseLib;

const IN_FLIGHT = 1000;
const BULKHEAD = { maxConcurrent: 2 * IN_FLIGHT, maxQueued: 0 };

function ck() {
  const { handleAll } = cockatiel;
  return {
    retry: () =>
      cockatiel.retry(handleAll, { maxAttempts: 3, backoff: new cockatiel.ExponentialBackoff() }),
    breaker: () =>
      cockatiel.circuitBreaker(handleAll, {
        halfOpenAfter: 10_000,
        breaker: new cockatiel.ConsecutiveBreaker(5),
      }),
    bulkhead: () => cockatiel.bulkhead(BULKHEAD.maxConcurrent, BULKHEAD.maxQueued),
    timeout: () => cockatiel.timeout(30_000, cockatiel.TimeoutStrategy.Cooperative),
  };
}

const CASES: Record<string, Case> = {
  'bare await fn()': { make: () => fn },
  // The least any promise-wrapping policy can cost: one async frame around the call.
  'floor: async wrapper (try { return await fn() })': { make: () => () => wrapped(fn) },
  // The least a policy that must release its caller before `fn` settles (aggressive timeout,
  // hedge) can cost: a promise of its own, settled by fn's outcome (no bookkeeping at all).
  'floor: own promise (new Promise, settled from fn().then)': { make: () => ownPromise },
  'faultline retry': {
    peer: 'cockatiel retry',
    make: () => {
      const p = faultline.retry();
      return () => p.execute(fn);
    },
  },
  'faultline timeout (cooperative)': {
    peer: 'cockatiel timeout (cooperative)',
    make: () => {
      const p = faultline.timeout(30_000);
      return () => p.execute(fn);
    },
  },
  'faultline timeout (aggressive)': {
    make: () => {
      const p = faultline.timeout({ timeoutMs: 30_000, strategy: 'aggressive' });
      return () => p.execute(fn);
    },
  },
  'faultline fallback': {
    make: () => {
      const p = faultline.fallback({ value: 0 });
      return () => p.execute(fn);
    },
  },
  'faultline hedge': {
    make: () => {
      const p = faultline.hedge({ delayMs: 1000 });
      return () => p.execute(fn);
    },
  },
  'faultline circuitBreaker': {
    peer: 'cockatiel circuitBreaker',
    make: () => {
      const p = loose.circuitBreaker!();
      return () => p.execute(fn);
    },
  },
  'faultline bulkhead': {
    peer: 'cockatiel bulkhead',
    make: () => {
      const p = loose.bulkhead!(BULKHEAD);
      return () => p.execute(fn);
    },
  },
  'faultline rateLimiter': {
    make: () => {
      const p = loose.rateLimiter!({ rate: 1e12, burst: 1e12 });
      return () => p.execute(fn);
    },
  },
  // The same bucket reading the clock on every call (the default reads it once per 1 % of the burst).
  'faultline rateLimiter (exact: resolutionTokens 0)': {
    make: () => {
      const p = loose.rateLimiter!({ rate: 1e12, burst: 1e12, resolutionTokens: 0 });
      return () => p.execute(fn);
    },
  },
  'faultline adaptive': {
    make: () => {
      const p = loose.adaptive!();
      return () => p.execute(fn);
    },
  },
  'faultline pipeline(retry, breaker, timeout, bulkhead)': {
    peer: 'cockatiel wrap(retry, breaker, timeout, bulkhead)',
    make: () => {
      const p = faultline.pipeline(
        faultline.retry(),
        loose.circuitBreaker!(),
        faultline.timeout(30_000),
        loose.bulkhead!(BULKHEAD),
      );
      return () => p.execute(fn);
    },
  },
  'cockatiel retry': { make: () => execOf(ck().retry()) },
  'cockatiel circuitBreaker': { make: () => execOf(ck().breaker()) },
  'cockatiel bulkhead': { make: () => execOf(ck().bulkhead()) },
  'cockatiel timeout (cooperative)': { make: () => execOf(ck().timeout()) },
  'cockatiel wrap(retry, breaker, timeout, bulkhead)': {
    make: () => {
      const c = ck();
      return execOf(cockatiel.wrap(c.retry(), c.breaker(), c.timeout(), c.bulkhead()));
    },
  },
  'opossum fire() (defaults)': {
    make: () => {
      const breaker = new OpossumBreaker(fn);
      return () => breaker.fire();
    },
  },
  'p-retry': { make: () => () => pRetry(fn, { retries: 3 }) },
};

/** Failures seen by the floor case's wrapper (exported so the counter is not dead code). */
export let wrappedFailures = 0;
async function wrapped(call: () => Promise<number>): Promise<number> {
  try {
    return await call();
  } catch (error) {
    wrappedFailures++; // what a policy's failure path starts with
    throw error;
  }
}

function ownPromise(): Promise<unknown> {
  let resolve!: (value: unknown) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  fn().then(resolve, reject);
  return promise;
}

function execOf(policy: { execute(fn: () => Promise<number>): Promise<number> }): Run {
  return () => policy.execute(fn);
}

/** Whether a case can run in this tree (C's policies may not exist yet). */
function available(name: string): boolean {
  if (name.includes('circuitBreaker') || name.includes('pipeline')) {
    if (
      name.startsWith('faultline') &&
      (loose.circuitBreaker === undefined || loose.bulkhead === undefined)
    )
      return false;
  }
  if (name === 'faultline bulkhead') return loose.bulkhead !== undefined;
  if (name.startsWith('faultline rateLimiter')) return loose.rateLimiter !== undefined;
  if (name === 'faultline adaptive') return loose.adaptive !== undefined;
  return true;
}

// ---- child: one case, both modes ---------------------------------------------------------

async function inFlight(
  name: string,
  run: Run,
  batches: number,
  samples: number,
): Promise<BenchResult> {
  const calls = new Array<Promise<unknown>>(IN_FLIGHT);
  const batch = async () => {
    for (let i = 0; i < IN_FLIGHT; i++) calls[i] = run();
    await Promise.all(calls);
  };
  for (let i = 0; i < batches; i++) await batch(); // warm-up
  const perCall: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batches; i++) await batch();
    perCall.push(Number(process.hrtime.bigint() - start) / (batches * IN_FLIGHT));
  }
  return fromSamples(name, perCall, 'ns/op');
}

/**
 * How long one timed sample lasts. On a shared VM a stolen time slice costs milliseconds, so a
 * sample of a fraction of a millisecond (50,000 calls at 60 ns is 3 ms; 20 batches of 1,000 is
 * under 1 ms) is sometimes ten times its true length; at 25 ms a hiccup moves it a few percent.
 */
const SAMPLE_NS = 25e6;

/** ns per call after a warm-up, to size the samples. */
async function calibrate(run: Run): Promise<number> {
  const calls = 20_000;
  for (let i = 0; i < calls; i++) await run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await run();
  return Number(process.hrtime.bigint() - start) / calls;
}

async function childCase(name: string): Promise<void> {
  const found = CASES[name];
  if (found === undefined) throw new Error(`no case named ${JSON.stringify(name)}`);
  const run = found.make();
  const perCall = await calibrate(run);
  const iterations = Math.min(1_000_000, Math.max(2_000, Math.round(SAMPLE_NS / perCall)));
  const sequential = await benchAsync('seq', run, { iterations, warmup: 0, samples: 7 });
  const batches = Math.min(1_000, Math.max(2, Math.round(SAMPLE_NS / (perCall * IN_FLIGHT))));
  const parallel = await inFlight('par', run, batches, 7);
  report([sequential, parallel], 'ns/op');
}

// ---- child: heap per idle breaker ---------------------------------------------------------

const BREAKERS = 10_000;

function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) gc();
}

async function childHeap(library: string): Promise<void> {
  const makers: Record<string, () => unknown> = {
    faultline: () => loose.circuitBreaker!(),
    cockatiel: () => ck().breaker(),
    opossum: () => new OpossumBreaker(fn),
  };
  const make = makers[library];
  if (make === undefined) throw new Error(`no heap case ${library}`);
  make(); // load and compile everything the first instance needs
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const kept = new Array<unknown>(BREAKERS);
  for (let i = 0; i < BREAKERS; i++) kept[i] = make();
  collectGarbage();
  const bytes = (process.memoryUsage().heapUsed - before) / BREAKERS;
  report([fromSamples('heap', [bytes], 'B/breaker')], 'B/breaker');
  for (const b of kept) (b as { shutdown?: () => void }).shutdown?.();
  process.exit(0); // opossum keeps interval timers per breaker
}

// ---- parent: the retry storm figure --------------------------------------------------------

async function stormCallsPerRequest(withBudget: boolean): Promise<number> {
  let now = 0;
  const clock: faultline.Clock = {
    now: () => now,
    wallTime: () => now,
    sleep: async () => {},
    schedule: () => () => {},
  };
  const budget = withBudget
    ? faultline.retryBudget({ ratio: 0.1, minRetriesPerSecond: 1, clock })
    : undefined;
  const layer = () =>
    faultline.retry({
      clock,
      maxAttempts: 3,
      backoff: faultline.constantBackoff(0),
      ...(budget ? { budget } : {}),
    });
  const [outer, middle, inner] = [layer(), layer(), layer()];
  const as503 = () => {
    throw Object.assign(new Error('HTTP 503'), { status: 503 });
  };
  let calls = 0;
  const dependency = () => {
    calls++;
    as503();
  };
  const requests = 5000;
  for (let i = 0; i < requests; i++) {
    await outer
      .execute((c1) =>
        middle
          .execute((c2) => inner.execute(dependency, { context: c2 }).catch(as503), { context: c1 })
          .catch(as503),
      )
      .catch(() => {});
    now += 10;
  }
  return calls / requests;
}

// ---- parent ---------------------------------------------------------------------------------

async function parent(): Promise<void> {
  const script = fileURLToPath(import.meta.url);
  const runs = Math.max(5, Number(argValue('runs') ?? 5));
  const only = argValue('only');
  const seq: BenchResult[] = [];
  const par: BenchResult[] = [];
  const medians = new Map<string, { seq: number; par: number; seqBest: number }>();
  const names = Object.keys(CASES).filter((name) => {
    if (
      only !== undefined &&
      !name.includes(only) &&
      name !== 'bare await fn()' &&
      !name.startsWith('floor')
    )
      return false;
    if (available(name)) return true;
    console.error(`skipping ${name}: not in this tree`);
    return false;
  });
  // Runs are interleaved (every case once, then every case again, ...): a noisy minute on a
  // shared machine then lands on one run of every case instead of on all runs of one case.
  const seqRuns = new Map<string, number[]>(names.map((name) => [name, []]));
  const parRuns = new Map<string, number[]>(names.map((name) => [name, []]));
  for (let r = 0; r < runs; r++) {
    for (const name of names) {
      const out = await runInChild(script, ['--case', name]);
      seqRuns.get(name)!.push(Number(out.seq));
      parRuns.get(name)!.push(Number(out.par));
    }
    console.error(`done run ${r + 1} of ${runs}`);
  }
  for (const name of names) {
    const seqOf = seqRuns.get(name)!;
    const parOf = parRuns.get(name)!;
    seq.push(fromSamples(`seq: ${name}`, seqOf, 'ns/op'));
    par.push(fromSamples(`par${IN_FLIGHT}: ${name}`, parOf, 'ns/op'));
    medians.set(name, { seq: median(seqOf), par: median(parOf), seqBest: Math.min(...seqOf) });
  }
  const heap: BenchResult[] = [];
  if (only === undefined || 'heap'.includes(only)) {
    for (const library of ['faultline', 'cockatiel', 'opossum']) {
      if (library === 'faultline' && loose.circuitBreaker === undefined) continue;
      const values: number[] = [];
      for (let r = 0; r < runs; r++)
        values.push(Number((await runInChild(script, ['--heap', library])).heap));
      heap.push(fromSamples(`heap: ${library} idle breaker [bytes]`, values, 'B'));
    }
  }
  const storm = [
    fromSamples(
      'storm: calls/request, 3x3 nested, no budget [calls]',
      [await stormCallsPerRequest(false)],
      'calls',
    ),
    fromSamples(
      'storm: calls/request, 3x3 nested, 10% budget [calls]',
      [await stormCallsPerRequest(true)],
      'calls',
    ),
  ];
  printComparison(medians);
  // The JSON line carries every figure; keys ending in [bytes] / [calls] are not ns/op.
  report([...seq, ...par, ...heap, ...storm], 'ns/op');
  if (!wantsJson())
    console.log(
      `\n${new Date().toISOString()} · Node ${process.version} · ${process.platform}/${process.arch}`,
    );
}

function printComparison(
  medians: Map<string, { seq: number; par: number; seqBest: number }>,
): void {
  const bare = medians.get('bare await fn()');
  if (bare === undefined) return;
  const rows: string[] = [
    'case | seq ns | over bare | ×peer | par ns | over bare | ×peer | seq best run | best over bare',
  ];
  for (const [name, m] of medians) {
    const peer = CASES[name]?.peer === undefined ? undefined : medians.get(CASES[name]!.peer!);
    const ratio = (a: number, b: number | undefined) => (b === undefined ? '' : (a / b).toFixed(2));
    rows.push(
      [
        name,
        m.seq.toFixed(0),
        (m.seq - bare.seq).toFixed(0),
        ratio(m.seq - bare.seq, peer === undefined ? undefined : peer.seq - bare.seq),
        m.par.toFixed(0),
        (m.par - bare.par).toFixed(0),
        ratio(m.par - bare.par, peer === undefined ? undefined : peer.par - bare.par),
        m.seqBest.toFixed(0),
        (m.seqBest - bare.seqBest).toFixed(0),
      ].join(' | '),
    );
  }
  console.log(
    `${rows.join('\n')}\n(×peer = faultline's added cost divided by the peer's added cost)\n`,
  );
}

const caseName = argValue('case');
const heapLibrary = argValue('heap');
if (caseName !== undefined) await childCase(caseName);
else if (heapLibrary !== undefined) await childHeap(heapLibrary);
else await parent();
