import { closest } from '../validate/nearest.js';
import { ConfigError, cutText, describeValue, MAX_DESCRIBED_LENGTH } from '../faults/errors.js';
import { type Backoff, exponentialBackoff, type Jitter } from '../recovery/backoff.js';
import { type RecoveryPlan, recoveryPlan } from '../recovery/plan.js';
import { redactUrl } from './redact.js';
import { scoped } from '../validate/scoped.js';

/** Every option error names the option from `fromEnv`. */
const check = scoped('fromEnv');

/**
 * Options from `FAULTLINE_*` environment variables. Every variable is declared once in
 * `ENV_VARIABLES` (name, default, meaning); `.env.example` and docs/configuration.md list
 * the same table, and a test keeps them in step.
 */

type Kind =
  | 'count'
  | 'positiveCount'
  | 'ms'
  | 'positiveMs'
  | 'jitter'
  | 'store'
  | 'logLevel'
  | 'queue'
  | 'secret';

export interface EnvVariable {
  readonly name: string;
  /** The default as written in `.env.example`; `undefined` = unset means "no limit". */
  readonly default: string | undefined;
  readonly kind: Kind;
  readonly description: string;
}

const JITTERS: readonly Jitter[] = ['none', 'full', 'equal', 'decorrelated'];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Every variable `fromEnv()` reads, in the order of `.env.example`. */
export const ENV_VARIABLES: readonly EnvVariable[] = [
  {
    name: 'FAULTLINE_RETRY_MAX_ATTEMPTS',
    default: '5',
    kind: 'positiveCount',
    description: "Attempts in all, the first included (retry() and the worker's plan).",
  },
  {
    name: 'FAULTLINE_RETRY_BASE_DELAY_MS',
    default: '1000',
    kind: 'ms',
    description: 'First retry delay before jitter; doubles per retry.',
  },
  {
    name: 'FAULTLINE_RETRY_MAX_DELAY_MS',
    default: '30000',
    kind: 'ms',
    description: 'Cap of one retry delay.',
  },
  {
    name: 'FAULTLINE_RETRY_JITTER',
    default: 'full',
    kind: 'jitter',
    description: 'none, full, equal or decorrelated.',
  },
  {
    name: 'FAULTLINE_RETRY_MAX_ELAPSED_MS',
    default: undefined,
    kind: 'positiveMs',
    description:
      'Give up once this much time has passed since the first attempt (unset: no limit).',
  },
  {
    name: 'FAULTLINE_RETRY_MAX_RETRY_AFTER_MS',
    default: '300000',
    kind: 'ms',
    description: "Give up rather than wait longer than this for a server's Retry-After.",
  },
  {
    name: 'FAULTLINE_BREAKER_FAILURE_THRESHOLD',
    default: '5',
    kind: 'positiveCount',
    description: 'Consecutive failures that open the circuit.',
  },
  {
    name: 'FAULTLINE_BREAKER_OPEN_MS',
    default: '30000',
    kind: 'positiveMs',
    description: 'How long the circuit stays open before a half-open probe.',
  },
  {
    name: 'FAULTLINE_BREAKER_HALF_OPEN_PROBES',
    default: '1',
    kind: 'positiveCount',
    description: 'Calls let through at once while half-open.',
  },
  {
    name: 'FAULTLINE_HEALTH_FAILURE_THRESHOLD',
    default: '3',
    kind: 'positiveCount',
    description: 'Consecutive failed checks that enter failing mode.',
  },
  {
    name: 'FAULTLINE_HEALTH_STABILITY_THRESHOLD',
    default: '5',
    kind: 'positiveCount',
    description: 'Consecutive good checks that leave failing mode.',
  },
  {
    name: 'FAULTLINE_HEALTH_INTERVAL_MS',
    default: '10000',
    kind: 'positiveMs',
    description: 'Check interval while healthy.',
  },
  {
    name: 'FAULTLINE_HEALTH_FAILING_BACKOFF_MS',
    default: '10000',
    kind: 'positiveMs',
    description: 'First check delay while failing; doubles per check.',
  },
  {
    name: 'FAULTLINE_HEALTH_FAILING_MAX_MS',
    default: '300000',
    kind: 'positiveMs',
    description: 'Cap of the check delay while failing.',
  },
  {
    name: 'FAULTLINE_WORKER_CONCURRENCY',
    default: '10',
    kind: 'positiveCount',
    description: 'Jobs a worker runs at once.',
  },
  {
    name: 'FAULTLINE_WORKER_LEASE_MS',
    default: '4000',
    kind: 'positiveMs',
    description: "Lease of a claimed job; a dead worker's jobs return after it.",
  },
  {
    name: 'FAULTLINE_WORKER_STOP_DEADLINE_MS',
    default: '10000',
    kind: 'ms',
    description: 'How long stop() waits for running jobs before aborting them.',
  },
  {
    name: 'FAULTLINE_STORE',
    default: 'sqlite:./faultline.db',
    kind: 'store',
    description:
      'sqlite:PATH, redis://[user:password@]host:port[/db], postgres://[user:password@]host:port/database or memory.',
  },
  {
    name: 'FAULTLINE_QUEUE',
    default: 'default',
    kind: 'queue',
    description: 'Queue name used when none is given.',
  },
  {
    name: 'FAULTLINE_LOG_LEVEL',
    default: 'info',
    kind: 'logLevel',
    description: 'trace, debug, info, warn, error, fatal or silent.',
  },
  {
    name: 'FAULTLINE_DASHBOARD_TOKEN',
    default: undefined,
    kind: 'secret',
    description:
      'Access token of `faultline dashboard` (16+ characters); needed to listen beyond 127.0.0.1. Never printed.',
  },
];

/** Where durable state lives, parsed from `sqlite:PATH`, `redis://...` or `memory`. */
export type StoreLocation =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'redis'; readonly url: string }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'memory' };

export interface FaultlineEnv {
  /** Spread into `retry({...})`. */
  readonly retry: {
    readonly plan: RecoveryPlan;
    readonly maxAttempts: number;
    readonly backoff: Backoff;
    readonly maxElapsedMs: number;
    readonly maxRetryAfterMs: number;
  };
  /** Spread into `circuitBreaker({...})`. */
  readonly breaker: {
    readonly trigger: { readonly kind: 'consecutive'; readonly failures: number };
    readonly halfOpenAfter: number;
    readonly maxProbes: number;
  };
  /** Spread into `new HealthMonitor({...})`. */
  readonly health: {
    readonly failureThreshold: number;
    readonly stabilityThreshold: number;
    readonly intervalMs: number;
    readonly failingBackoff: Backoff;
  };
  /**
   * The recovery plan the FAULTLINE_RETRY_* variables describe: network, timeout, unavailable
   * and conflict faults retried that many attempts on that backoff within that time, and a
   * pause (rate limit) never longer than FAULTLINE_RETRY_MAX_RETRY_AFTER_MS. `retry` and
   * `worker` carry it, so in-process retries and the durable worker follow the same numbers.
   */
  readonly plan: RecoveryPlan;
  /** Spread into `new Worker(queue, handler, {...})`; `plan` is the one above. */
  readonly worker: {
    readonly concurrency: number;
    readonly leaseMs: number;
    readonly plan: RecoveryPlan;
  };
  /** Pass to `worker.stop({...})`. */
  readonly stop: { readonly deadlineMs: number };
  readonly store: StoreLocation;
  readonly queue: string;
  readonly logLevel: LogLevel;
  /** The dashboard's access token, when set. */
  readonly dashboardToken: string | undefined;
}

export interface EnvProblem {
  readonly variable: string;
  /** The value as found (credentials in a store URL replaced by `***`). */
  readonly value: string;
  readonly message: string;
}

/**
 * One error for all bad variables, so a deployment is fixed in one round trip. It is a
 * ConfigError (category `validation`); `problems` has one entry per variable.
 */
export class EnvConfigError extends ConfigError {
  readonly problems: readonly EnvProblem[];
  constructor(problems: readonly EnvProblem[]) {
    const first = problems[0] ?? { variable: 'environment', value: '', message: 'invalid' };
    super(first.variable, first.value, first.message);
    this.problems = problems;
    const lines = problems.map((p) => `  ${p.variable}=${describeValue(p.value)}: ${p.message}`);
    this.message = `${problems.length} invalid FAULTLINE_* environment variable${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`;
  }
}

export interface FromEnvOptions {
  /**
   * Reject `FAULTLINE_*` variables that are not in `ENV_VARIABLES` (typos).
   * @defaultValue true
   */
  readonly strict?: boolean;
}

/**
 * Reads the retry, breaker, health-monitor and worker options from `FAULTLINE_*` variables.
 * Unset or empty variables take their documented default. Every bad value is reported at
 * once in one `EnvConfigError`.
 */
export function fromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: FromEnvOptions = {},
): FaultlineEnv {
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    throw check.configError('env', env, 'an object of environment variables such as process.env');
  }
  const opts = check.plainObject('options', options);
  check.knownKeys('options', opts, ['strict']);
  const strict =
    options.strict === undefined ? true : check.boolean('options.strict', options.strict);
  const problems: EnvProblem[] = [];
  // Environment values are text; a number or an object here is a caller's slip, reported with the rest.
  const nonText = new Set<string>();
  for (const name of Object.keys(env)) {
    const value: unknown = env[name];
    if (value !== undefined && typeof value !== 'string') {
      nonText.add(name);
      problems.push({
        variable: name,
        value: describeValue(value),
        message: `expected a string (environment variables are text), got ${value === null ? 'null' : typeof value}`,
      });
    }
  }
  const values = new Map<string, unknown>();
  for (const variable of ENV_VARIABLES) {
    if (nonText.has(variable.name)) continue;
    const raw = env[variable.name]?.trim();
    const text = raw === undefined || raw === '' ? variable.default : raw;
    if (text === undefined) continue;
    const parsed = parse(variable.kind, text);
    if (typeof parsed === 'object' && parsed !== null && 'problem' in parsed) {
      problems.push({
        variable: variable.name,
        value: variable.kind === 'secret' ? '***' : shown(text),
        message: parsed.problem,
      });
    } else {
      values.set(variable.name, parsed);
    }
  }
  if (strict) {
    const known = new Set(ENV_VARIABLES.map((v) => v.name));
    for (const name of Object.keys(env)) {
      if (name.startsWith('FAULTLINE_') && !known.has(name) && !nonText.has(name)) {
        const near = closest(name, [...known]);
        // A mistyped secret's name still says what it holds: its value is never shown.
        const value = /TOKEN|SECRET|PASSWORD|KEY/.test(name) ? '***' : shown(env[name] ?? '');
        problems.push({
          variable: name,
          value,
          message: `unknown variable${near ? `; did you mean ${near}?` : ''}`,
        });
      }
    }
  }
  const num = (name: string) => values.get(name) as number;
  const opt = (name: string) => (values.has(name) ? num(name) : Number.POSITIVE_INFINITY);
  // Relations between variables are checked only when each one parsed.
  const between = (low: string, high: string) => {
    if (values.has(low) && values.has(high) && num(low) > num(high)) {
      problems.push({
        variable: high,
        value: String(num(high)),
        message: `must be >= ${low} (${num(low)})`,
      });
    }
  };
  between('FAULTLINE_RETRY_BASE_DELAY_MS', 'FAULTLINE_RETRY_MAX_DELAY_MS');
  between('FAULTLINE_HEALTH_FAILING_BACKOFF_MS', 'FAULTLINE_HEALTH_FAILING_MAX_MS');
  if (problems.length > 0) throw new EnvConfigError(problems);

  const retryBackoff = exponentialBackoff({
    initialMs: num('FAULTLINE_RETRY_BASE_DELAY_MS'),
    maxDelayMs: num('FAULTLINE_RETRY_MAX_DELAY_MS'),
    jitter: values.get('FAULTLINE_RETRY_JITTER') as Jitter,
  });
  const maxAttempts = num('FAULTLINE_RETRY_MAX_ATTEMPTS');
  const maxElapsedMs = opt('FAULTLINE_RETRY_MAX_ELAPSED_MS');
  const maxRetryAfterMs = num('FAULTLINE_RETRY_MAX_RETRY_AFTER_MS');
  const plan = planFromEnv(maxAttempts, retryBackoff, maxElapsedMs, maxRetryAfterMs);
  return {
    retry: { plan, maxAttempts, backoff: retryBackoff, maxElapsedMs, maxRetryAfterMs },
    plan,
    breaker: {
      trigger: { kind: 'consecutive', failures: num('FAULTLINE_BREAKER_FAILURE_THRESHOLD') },
      halfOpenAfter: num('FAULTLINE_BREAKER_OPEN_MS'),
      maxProbes: num('FAULTLINE_BREAKER_HALF_OPEN_PROBES'),
    },
    health: {
      failureThreshold: num('FAULTLINE_HEALTH_FAILURE_THRESHOLD'),
      stabilityThreshold: num('FAULTLINE_HEALTH_STABILITY_THRESHOLD'),
      intervalMs: num('FAULTLINE_HEALTH_INTERVAL_MS'),
      failingBackoff: exponentialBackoff({
        initialMs: num('FAULTLINE_HEALTH_FAILING_BACKOFF_MS'),
        maxDelayMs: num('FAULTLINE_HEALTH_FAILING_MAX_MS'),
        jitter: 'none',
      }),
    },
    worker: {
      concurrency: num('FAULTLINE_WORKER_CONCURRENCY'),
      leaseMs: num('FAULTLINE_WORKER_LEASE_MS'),
      plan,
    },
    stop: { deadlineMs: num('FAULTLINE_WORKER_STOP_DEADLINE_MS') },
    store: values.get('FAULTLINE_STORE') as StoreLocation,
    queue: values.get('FAULTLINE_QUEUE') as string,
    logLevel: values.get('FAULTLINE_LOG_LEVEL') as LogLevel,
    dashboardToken: values.get('FAULTLINE_DASHBOARD_TOKEN') as string | undefined,
  };
}

/**
 * The default plan with the retry variables applied to the categories it retries, and the
 * Retry-After limit applied to its pause: what a worker does then matches what retry() does.
 */
function planFromEnv(
  maxAttempts: number,
  backoff: Backoff,
  maxElapsedMs: number,
  maxRetryAfterMs: number,
): RecoveryPlan {
  const retrying = { action: 'retry', maxAttempts, backoff, maxElapsedMs } as const;
  return recoveryPlan({
    rules: {
      network: retrying,
      timeout: retrying,
      unavailable: retrying,
      conflict: retrying,
      rate_limit: { action: 'pause', maxAttempts: 10, maxWaitMs: maxRetryAfterMs, maxElapsedMs },
    },
  });
}

type Parsed = number | string | StoreLocation | { problem: string };

function parse(kind: Kind, text: string): Parsed {
  switch (kind) {
    case 'count':
    case 'positiveCount':
    case 'ms':
    case 'positiveMs': {
      const unit = kind === 'ms' || kind === 'positiveMs' ? ' (milliseconds)' : '';
      const min = kind === 'positiveCount' || kind === 'positiveMs' ? 1 : 0;
      if (!/^\d+$/.test(text)) return { problem: `expected a whole number >= ${min}${unit}` };
      const n = Number(text);
      if (!Number.isSafeInteger(n)) return { problem: `too large; expected a whole number${unit}` };
      if (n < min) return { problem: `expected a whole number >= ${min}${unit}` };
      return n;
    }
    case 'jitter':
      return (JITTERS as readonly string[]).includes(text)
        ? text
        : { problem: `expected one of ${JITTERS.join(', ')}` };
    case 'logLevel':
      return (LOG_LEVELS as readonly string[]).includes(text)
        ? text
        : { problem: `expected one of ${LOG_LEVELS.join(', ')}` };
    case 'queue':
      return text.length <= 200
        ? text
        : { problem: 'expected a queue name of at most 200 characters' };
    case 'store':
      return parseStoreLocation(text);
    case 'secret':
      return text.length >= 16 && !/\s/.test(text)
        ? text
        : { problem: 'expected at least 16 characters without spaces' };
  }
}

/**
 * Parses `sqlite:PATH` (also `sqlite://PATH` and a bare path ending in .db/.sqlite),
 * `redis://...`/`rediss://...` and `memory`. Messages never echo a password.
 */
export function parseStoreLocation(text: string): StoreLocation | { problem: string } {
  if (text === 'memory' || text === 'memory:') return { kind: 'memory' };
  if (text.startsWith('redis://') || text.startsWith('rediss://') || text.startsWith('valkey://')) {
    try {
      const url = new URL(text);
      if (url.hostname === '')
        return { problem: 'a redis URL needs a host, e.g. redis://127.0.0.1:6379' };
      return {
        kind: 'redis',
        url: text.startsWith('valkey://') ? `redis://${text.slice('valkey://'.length)}` : text,
      };
    } catch {
      return {
        problem:
          'not a valid URL; expected redis://host:port/db, with user:password@ before the host when needed (a port from 1 to 65535)',
      };
    }
  }
  if (/^postgres(ql)?:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      if (url.hostname === '')
        return { problem: 'a postgres URL needs a host, e.g. postgres://user@127.0.0.1:5432/app' };
      return { kind: 'postgres', url: text };
    } catch {
      return { problem: 'not a valid URL; expected postgres://[user:password@]host:port/database' };
    }
  }
  if (text.startsWith('sqlite:')) {
    const path = text.slice(text.startsWith('sqlite://') ? 'sqlite://'.length : 'sqlite:'.length);
    if (path === '') return { problem: 'expected sqlite:PATH, e.g. sqlite:./faultline.db' };
    return { kind: 'sqlite', path };
  }
  if (/\.(db|sqlite3?)$/i.test(text) && !text.includes('://'))
    return { kind: 'sqlite', path: text };
  return {
    problem: 'expected sqlite:PATH, redis://host:port, postgres://host:port/database or memory',
  };
}

/** A value as an error may show it: credentials masked, and cut (with a marker) when very long. */
function shown(text: string): string {
  return cutText(redactUrl(text), MAX_DESCRIBED_LENGTH);
}

export { redactUrl };
