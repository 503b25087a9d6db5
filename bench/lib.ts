/**
 * A tiny benchmark harness shared by every script under bench/.
 *
 *   const results = [bench('classify 503', () => classify(e), { iterations: 100_000 })];
 *   report(results, 'ns/op');
 *
 * `bench` times `iterations` calls per sample with process.hrtime.bigint and keeps the median of
 * the per-sample averages (>= 5 samples), so one GC pause or scheduler hiccup does not move the
 * figure. `report` prints a table and, when the script was started with --json, ONE JSON object on
 * the last stdout line: {"case name": median, ..., "unit": "ns/op"}, plus
 * "units": {"case name": "ms", ...} for results in another unit.
 */
import { spawn } from 'node:child_process';
import Table from 'cli-table3';

export interface BenchOptions {
  /** Calls per sample. Default 10,000. */
  iterations?: number;
  /** Calls made before measuring, to let the JIT settle. Default: iterations / 10, at least 100. */
  warmup?: number;
  /** Number of timed samples (at least 5). Default 7. */
  samples?: number;
}

export interface BenchResult {
  name: string;
  /** Median of the per-sample averages, in `unit`. */
  median: number;
  min: number;
  max: number;
  /** Per-sample averages, in `unit`. */
  samples: number[];
  unit: string;
  /**
   * Median CPU time of this process per op (user + system, ns), when measured. On a shared,
   * loaded machine it leaves out the time the process waited for a core, unlike `median`.
   */
  cpuMedian?: number;
}

const MIN_SAMPLES = 5;

/** Whether the script was started with --json. */
export function wantsJson(argv: readonly string[] = process.argv): boolean {
  return argv.includes('--json');
}

/** Value of a `--name value` or `--name=value` argument, if present. */
export function argValue(name: string, argv: readonly string[] = process.argv): string | undefined {
  const flag = `--${name}`;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === flag) return argv[i + 1];
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Builds a result from raw measurements taken by the caller (e.g. ms per run of a scenario). */
export function fromSamples(name: string, samples: readonly number[], unit: string): BenchResult {
  return {
    name,
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    samples: [...samples],
    unit,
  };
}

/**
 * Keeps results alive so the JIT cannot drop a call whose value is unused.
 * Read `sink` nowhere; writing to a module-level variable is enough.
 */
export let sink: unknown;
export function consume(value: unknown): void {
  sink = value;
}

function resolveOptions(options: BenchOptions): Required<BenchOptions> {
  const iterations = Math.max(1, Math.floor(options.iterations ?? 10_000));
  return {
    iterations,
    warmup: Math.max(0, Math.floor(options.warmup ?? Math.max(100, iterations / 10))),
    samples: Math.max(MIN_SAMPLES, Math.floor(options.samples ?? 7)),
  };
}

/** Times a synchronous function; the result is in ns per call. */
export function bench(name: string, fn: () => unknown, options: BenchOptions = {}): BenchResult {
  const { iterations, warmup, samples } = resolveOptions(options);
  for (let i = 0; i < warmup; i++) sink = fn();
  const perOp: number[] = [];
  const cpuPerOp: number[] = [];
  for (let s = 0; s < samples; s++) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink = fn();
    const elapsed = process.hrtime.bigint() - start;
    const cpu = process.cpuUsage(cpuStart);
    perOp.push(Number(elapsed) / iterations);
    cpuPerOp.push(((cpu.user + cpu.system) * 1000) / iterations);
  }
  return { ...fromSamples(name, perOp, 'ns/op'), cpuMedian: median(cpuPerOp) };
}

/** Times an async function, one call awaited after the other; the result is in ns per call. */
export async function benchAsync(
  name: string,
  fn: () => Promise<unknown>,
  options: BenchOptions = {},
): Promise<BenchResult> {
  const { iterations, warmup, samples } = resolveOptions(options);
  for (let i = 0; i < warmup; i++) sink = await fn();
  const perOp: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink = await fn();
    const elapsed = process.hrtime.bigint() - start;
    perOp.push(Number(elapsed) / iterations);
  }
  return fromSamples(name, perOp, 'ns/op');
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/**
 * Prints a readable table to stdout and, with --json, one JSON object as the last stdout line.
 * `unit` is the unit stated in the JSON; results must all be in that unit.
 */
export function report(
  results: readonly BenchResult[],
  unit = 'ns/op',
  argv: readonly string[] = process.argv,
): void {
  // No colour codes when the output is piped (CI logs, --json consumers).
  const style = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };
  const withCpu = results.some((r) => r.cpuMedian !== undefined);
  const head = [
    'case',
    `median (${unit})`,
    'min',
    'max',
    'samples',
    ...(withCpu ? ['cpu median (ns/op)'] : []),
  ];
  const table = new Table({ head, ...style });
  for (const r of results) {
    const row = [
      r.name,
      formatNumber(r.median),
      formatNumber(r.min),
      formatNumber(r.max),
      String(r.samples.length),
    ];
    if (withCpu) row.push(r.cpuMedian === undefined ? '' : formatNumber(r.cpuMedian));
    table.push(row);
  }
  console.log(table.toString());
  if (wantsJson(argv)) {
    const json: Record<string, number | string | Record<string, string>> = {};
    for (const r of results) json[r.name] = Number(r.median.toFixed(3));
    json.unit = unit;
    // Results in another unit than `unit` say theirs, so a reader (npm run bench:report) can too.
    const units = Object.fromEntries(
      results.filter((r) => r.unit !== unit).map((r) => [r.name, r.unit]),
    );
    if (Object.keys(units).length > 0) json.units = units;
    console.log(JSON.stringify(json));
  }
}

/** Parses the last line of a benchmark's stdout as its JSON summary. */
export function parseJsonSummary(stdout: string): Record<string, number | string> {
  const lines = stdout.trimEnd().split('\n');
  const last = lines[lines.length - 1] ?? '';
  return JSON.parse(last) as Record<string, number | string>;
}

/**
 * Runs a bench script (or one case of it) in a fresh Node process through tsx, with --json, and
 * returns its JSON summary. Use it when a case must not share a heap or JIT state with others
 * (e.g. measuring start-up cost or memory).
 */
export function runInChild(
  scriptPath: string,
  args: readonly string[] = [],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Record<string, number | string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', scriptPath, ...args, '--json'], {
      cwd: options.cwd ?? process.cwd(),
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${scriptPath} exited with ${code}: ${stderr.trim()}`));
        return;
      }
      try {
        resolve(parseJsonSummary(stdout));
      } catch (error) {
        reject(
          new Error(`${scriptPath} printed no JSON summary on its last line: ${String(error)}`),
        );
      }
    });
  });
}
