import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Faultline from '../src/index.js';
import { argValue, fromSamples, median, report } from './lib.js';
import { exportRevision } from './revision.js';

type Lib = typeof Faultline;
type Run = () => Promise<unknown>;

const fn = async (): Promise<number> => 1;

/** The cases, each built from whichever copy of the library it is given. */
const CASES: Record<string, (l: Lib) => Run> = {
  retry: (l) => bind(l.retry()),
  timeout: (l) => bind(l.timeout(30_000)),
  'timeout-aggressive': (l) => bind(l.timeout({ timeoutMs: 30_000, strategy: 'aggressive' })),
  fallback: (l) => bind(l.fallback({ value: 0 })),
  hedge: (l) => bind(l.hedge({ delayMs: 1000 })),
  circuitBreaker: (l) => bind(l.circuitBreaker()),
  bulkhead: (l) => bind(l.bulkhead({ maxConcurrent: 2000, maxQueued: 0 })),
  rateLimiter: (l) => bind(l.rateLimiter({ rate: 1e12, burst: 1e12 })),
  adaptive: (l) => bind(l.adaptive()),
  pipeline: (l) =>
    bind(
      l.pipeline(
        l.retry(),
        l.circuitBreaker(),
        l.timeout(30_000),
        l.bulkhead({ maxConcurrent: 2000, maxQueued: 0 }),
      ),
    ),
};

function bind(policy: { execute(work: typeof fn): Promise<unknown> }): Run {
  return () => policy.execute(fn);
}

function pickCase(name: string | undefined): [string, (l: Lib) => Run] {
  const known = Object.keys(CASES);
  // An exact name, or a prefix only one case starts with (`--case breaker` is not one: `circuit`).
  const found =
    name === undefined
      ? []
      : known.includes(name)
        ? [name]
        : known.filter((k) => k.startsWith(name));
  if (found.length !== 1) {
    console.error(
      `bench/ab: --case must name one of: ${known.join(', ')}${name === undefined ? '' : ` (got "${name}")`}`,
    );
    process.exit(2);
  }
  return [found[0]!, CASES[found[0]!]!];
}

function positiveInteger(name: string, fallback: number): number {
  const raw = argValue(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    console.error(`bench/ab: --${name} must be a whole number >= 1 (got "${raw}")`);
    process.exit(2);
  }
  return value;
}

/**
 * ns per call: `calls` calls, one after the other, or in batches of `inFlight` at once; wall
 * clock, or CPU time of the process with `cpu`.
 */
async function timeLoop(run: Run, calls: number, inFlight: number, cpu: boolean): Promise<number> {
  const batch: Promise<unknown>[] = new Array(inFlight);
  const cpuStart = cpu ? process.cpuUsage() : undefined;
  const start = process.hrtime.bigint();
  if (inFlight === 1) {
    for (let i = 0; i < calls; i++) await run();
  } else {
    for (let done = 0; done < calls; done += inFlight) {
      for (let i = 0; i < inFlight; i++) batch[i] = run();
      await Promise.all(batch);
    }
  }
  if (cpuStart !== undefined) {
    const used = process.cpuUsage(cpuStart);
    return ((used.user + used.system) * 1000) / calls;
  }
  return Number(process.hrtime.bigint() - start) / calls;
}

async function main(): Promise<void> {
  const [caseName, make] = pickCase(argValue('case'));
  const base = argValue('base') ?? 'HEAD';
  const samples = positiveInteger('samples', 15);
  const calls = positiveInteger('calls', 200_000);
  const inFlight = positiveInteger('in-flight', 1);
  const cpu = process.argv.includes('--cpu');
  const unit = cpu ? 'cpu-ns/call' : 'ns/call';
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const baseDir = exportRevision(repo, base);
  try {
    const baseLib = (await import(pathToFileURL(path.join(baseDir, 'src/index.ts')).href)) as Lib;
    const workLib = (await import('../src/index.js')) as Lib;
    const runs = [make(baseLib), make(workLib)] as const;
    for (let round = 0; round < 4; round++)
      for (const run of runs) await timeLoop(run, calls, inFlight, cpu);
    const perCall: [number[], number[]] = [[], []];
    for (let s = 0; s < samples; s++) {
      // Alternate which side goes first, so neither always follows the other's garbage.
      for (const side of s % 2 === 0 ? [0, 1] : [1, 0])
        perCall[side]!.push(await timeLoop(runs[side]!, calls, inFlight, cpu));
    }
    const label = inFlight === 1 ? caseName : `${caseName}, ${inFlight} in flight`;
    const results = [
      fromSamples(`${base}: ${label}`, perCall[0], unit),
      fromSamples(`working tree: ${label}`, perCall[1], unit),
    ];
    const differences = perCall[1].map((value, i) => value - perCall[0][i]!);
    report(
      [...results, fromSamples('working tree − base (per sample pair)', differences, unit)],
      unit,
    );
    if (!process.argv.includes('--json')) {
      console.log(
        `median difference ${median(differences).toFixed(1)} ${cpu ? 'CPU-ns' : 'ns'} per call (negative: the working tree is faster)`,
      );
    }
  } finally {
    rmSync(baseDir, { recursive: true, force: true });
  }
}

await main();
