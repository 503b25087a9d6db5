import { closest } from '../validate/nearest.js';
import { ConfigError, describeValue } from '../faults/errors.js';
import { type Backoff, exponentialBackoff, type Jitter } from '../recovery/backoff.js';
import { type RecoveryPlan, recoveryPlan } from '../recovery/plan.js';
import { redactUrl } from './redact.js';
import { scoped } from '../validate/scoped.js';
import { parse, shown, type StoreLocation } from './env-parse.js';
import { ENV_VARIABLES, type LogLevel } from './env-variables.js';

export type { StoreLocation } from './env-parse.js';
export { parseStoreLocation } from './env-parse.js';
export type { EnvVariable, EnvVariableKind, LogLevel } from './env-variables.js';
export { ENV_VARIABLES, LOG_LEVELS } from './env-variables.js';

/** Every option error names the option from `fromEnv`. */
const check = scoped('fromEnv');

/**
 * Options from `FAULTLINE_*` environment variables. Every variable is declared once in
 * `ENV_VARIABLES` (name, default, meaning); `.env.example` and docs/configuration.md list
 * the same table, and a test keeps them in step.
 */

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

export { redactUrl };
