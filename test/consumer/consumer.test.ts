/**
 * The BUILT package, as a consumer sees it: `npm test` builds dist/ (tsup) before vitest runs.
 * Node resolves `faultline` by name from the repository through package.json `exports`
 * (self-reference), with `import` and with `require`; TypeScript (NodeNext) type-checks a small
 * ESM and CommonJS consumer against the bundled .d.ts / .d.cts.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = path.join(root, 'dist');

/** The public names issue 2 promises on `faultline` (others may add more). */
const CORE_NAMES = [
  'classify',
  'createClassifier',
  'isFault',
  'builtinClassifiers',
  'FAULT_CATEGORIES',
  'isFaultCategory',
  'isRetryableByDefault',
  'suggestionsFor',
  'parseRetryAfter',
  'retryAfterFromHeaders',
  'categoryOfStatus',
  'FaultlineError',
  'BrokenCircuitError',
  'BulkheadRejectedError',
  'RateLimitedError',
  'TimeoutError',
  'RetriesExhaustedError',
  'ConfigError',
  'recoveryPlan',
  'RecoveryPlan',
  'defaultPlan',
  'DEFAULT_RULES',
  'formatMs',
  'exponentialBackoff',
  'linearBackoff',
  'constantBackoff',
  'isBackoff',
  'seededRandom',
  'systemClock',
];
const TESTING_NAMES = ['VirtualClock'];
const REQUIRED_FILES = [
  'index.js',
  'index.cjs',
  'index.d.ts',
  'index.d.cts',
  'testing.js',
  'testing.cjs',
  'testing.d.ts',
  'testing.d.cts',
];

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], cwd: string): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, timeout: 120_000, maxBuffer: 10 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs a script in a fresh Node with cwd = repo; it prints one JSON line, which is returned parsed. */
async function node(args: readonly string[]): Promise<Record<string, unknown>> {
  const result = await run(process.execPath, args, root);
  if (result.code !== 0)
    throw new Error(
      `node ${args.slice(0, 2).join(' ')} failed (${result.code}):\n${result.stderr}`,
    );
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '') as Record<string, unknown>;
}

// What each consumer script reports: names, a working classification, and which heavy modules got loaded.
const PROBE = `
  const out = {
    core: Object.keys(core).sort(),
    testing: Object.keys(testing).sort(),
    fault: core.classify(Object.assign(new Error('x'), { code: 'ECONNRESET' })),
    status: core.classify({ status: 429, headers: { 'retry-after': '2' } }),
    configError: (() => { try { core.recoveryPlan({ maxAttempts: { network: -1 } }); } catch (e) { return { isConfigError: e instanceof core.ConfigError, option: e.option, message: e.message }; } })(),
    decision: core.defaultPlan.decide(core.classify({ status: 401 }), { attempt: 1 }).action,
    virtualClock: new testing.VirtualClock().pendingTimers,
    heavy: Object.keys(req.cache).filter((k) => /[\\\\/]node_modules[\\\\/](better-sqlite3|ioredis|prom-client|@opentelemetry)[\\\\/]/.test(k)),
  };
  delete out.fault.cause; delete out.status.cause;
  console.log(JSON.stringify(out));
`;

const ESM = `
  import * as core from 'faultline';
  import * as testing from 'faultline/testing';
  import { createRequire } from 'node:module';
  const req = createRequire(import.meta.url);
  ${PROBE}
`;

const CJS = `
  const core = require('faultline');
  const testing = require('faultline/testing');
  const req = require;
  ${PROBE}
`;

describe('the built package', () => {
  beforeAll(() => {
    const missing = REQUIRED_FILES.filter((f) => !fs.existsSync(path.join(dist, f)));
    if (missing.length > 0) {
      throw new Error(
        `dist/ is missing ${missing.join(', ')}: build the package first (npm run build; npm test does it before vitest). ` +
          'The consumer test checks the built package, not the sources.',
      );
    }
  });

  let esm: Record<string, unknown>;
  let cjs: Record<string, unknown>;

  it('loads with import (ESM) and with require (CommonJS), by its own name', async () => {
    [esm, cjs] = await Promise.all([node(['--input-type=module', '-e', ESM]), node(['-e', CJS])]);
    expect(esm.core).toEqual(expect.arrayContaining(CORE_NAMES));
    expect(cjs.core).toEqual(expect.arrayContaining(CORE_NAMES));
    expect(esm.testing).toEqual(expect.arrayContaining(TESTING_NAMES));
    expect(cjs.testing).toEqual(expect.arrayContaining(TESTING_NAMES));
  }, 120_000);

  it('ESM and CommonJS builds export exactly the same names', () => {
    expect(cjs.core).toEqual(esm.core);
    expect(cjs.testing).toEqual(esm.testing);
  });

  it('works the same in both formats', () => {
    for (const result of [esm, cjs]) {
      expect(result.fault).toMatchObject({
        category: 'network',
        code: 'ECONNRESET',
        retryable: true,
      });
      expect(result.status).toMatchObject({
        category: 'rate_limit',
        status: 429,
        retryAfterMs: 2000,
      });
      expect(result.configError).toMatchObject({
        isConfigError: true,
        option: 'plan.maxAttempts.network',
      });
      expect(result.decision).toBe('abort');
      expect(result.virtualClock).toBe(0);
    }
  });

  it('the core entry points load no heavy optional dependency (better-sqlite3, ioredis, prom-client, @opentelemetry)', () => {
    expect(esm.heavy).toEqual([]);
    expect(cjs.heavy).toEqual([]);
  });
});

describe('types of the built package (TypeScript, moduleResolution NodeNext)', () => {
  let dir: string;

  beforeAll(() => {
    if (
      !fs.existsSync(path.join(dist, 'index.d.ts')) ||
      !fs.existsSync(path.join(dist, 'index.d.cts'))
    ) {
      throw new Error(
        'dist/index.d.ts or dist/index.d.cts is missing: build the package first (npm run build).',
      );
    }
    // A consumer project outside the repository that depends on faultline through node_modules.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-consumer-'));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(root, path.join(dir, 'node_modules', 'faultline'), 'dir');
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'consumer', type: 'module', private: true }),
    );
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          // Checking all of @types/node costs ~15 s; the @ts-expect-error lines below still fail
          // if the bundled declarations break and collapse to \`any\`.
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [path.join(root, 'node_modules', '@types')],
        },
        files: ['esm.ts', 'cjs.cts'],
      }),
    );
    fs.writeFileSync(
      path.join(dir, 'esm.ts'),
      `import { classify, createClassifier, ConfigError, recoveryPlan, exponentialBackoff, systemClock, type Fault, type FaultCategory, type Decision, type Clock } from 'faultline';
import { VirtualClock } from 'faultline/testing';
const fault: Fault = classify(new Error('x'));
const category: FaultCategory = fault.category;
const retryAfter: number | undefined = fault.retryAfterMs;
const suggestions: readonly string[] = fault.suggestions;
const decision: Decision = recoveryPlan({ maxAttempts: { rate_limit: 2 }, delayMultipliers: { network: 0.5 } }).decide(fault, { attempt: 1, elapsedMs: 0 });
const action: 'retry' | 'pause' | 'skip' | 'abort' | 'fallback' | 'give_up' = decision.action;
const clock: Clock = new VirtualClock();
const real: Clock = systemClock;
const error = new ConfigError('x', 1, 'y');
const option: string = error.option;
const own = createClassifier({ classifiers: [(e) => (e === 1 ? { category: 'auth' } : undefined)] });
exponentialBackoff({ initialMs: 10, jitter: 'equal' });
// @ts-expect-error an unknown category is a type error, so the types are real (not any)
recoveryPlan({ maxAttempts: { netwrk: 3 } });
// @ts-expect-error an unknown jitter is a type error
exponentialBackoff({ jitter: 'some' });
export { category, retryAfter, suggestions, action, clock, real, option, own };
`,
    );
    fs.writeFileSync(
      path.join(dir, 'cjs.cts'),
      `import faultline = require('faultline');
import testing = require('faultline/testing');
const fault: faultline.Fault = faultline.classify('boom');
const category: faultline.FaultCategory = fault.category;
const clock = new testing.VirtualClock({ start: 5 });
const now: number = clock.now();
// @ts-expect-error classify returns a Fault, not a string
const wrong: string = faultline.classify(1);
export = { category, now, wrong };
`,
    );
  });

  afterAll(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an ESM (.ts) and a CommonJS (.cts) consumer type-check against the bundled declarations', async () => {
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], dir);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);
});
