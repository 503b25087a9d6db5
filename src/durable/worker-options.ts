import { hostname } from 'node:os';
import { scoped } from '../validate/scoped.js';
import { type ClassifyFunction, createClassifier } from '../faults/classify.js';
import type { Decision } from '../recovery/plan.js';
import { defaultPlan, type RecoveryPlan } from '../recovery/plan.js';
import type { ExecuteContext, ExecuteOptions } from '../policies/policy.js';
import type { Clock } from '../time/clock.js';

/** Every option error names the option from `worker`. */
const check = scoped('worker');

/** Anything with a policy's `execute`: a single policy or a `pipeline(...)`. */
export interface PipelineLike {
  execute<T>(
    fn: (context: ExecuteContext) => PromiseLike<T> | T,
    options?: ExecuteOptions,
  ): Promise<T>;
}

export interface WorkerOptions {
  /**
   * Jobs run at once.
   * @defaultValue 10
   */
  readonly concurrency?: number;
  /**
   * Lease length, measured from the claim and renewed by the heartbeat.
   * @defaultValue 4,000 ms
   */
  readonly leaseMs?: number;
  /**
   * How often the heartbeat renews every lease.
   * @defaultValue leaseMs / 4
   */
  readonly heartbeatMs?: number;
  /**
   * How often an idle worker looks for work. Local enqueues wake it at once.
   * @defaultValue 500 ms
   */
  readonly pollMs?: number;
  /**
   * The most jobs claimed in one step.
   * @defaultValue concurrency + the most jobs `prefetch` may hold
   */
  readonly batchSize?: number;
  /**
   * Jobs claimed ahead of free slots, so a slot that frees starts the next job without waiting
   * for a claim (0: claims only for free slots). A held job is handed back unstarted at no cost
   * on stop, pause and abort, and if it cannot start in time (the worker then holds fewer). Held
   * jobs are claimed: a crash of the process costs each of them a strike too.
   *
   * Unset, the worker holds 3 × concurrency and more when jobs run faster than claims bring
   * them (the held jobs ran out while a full claim was on its way): doubling up to
   * 20 × concurrency, at most 1,000. A number fixes the most it holds.
   * @defaultValue 3 × concurrency, growing for fast jobs
   */
  readonly prefetch?: number;
  /**
   * Claims without any report back before a job is dead-lettered as a crash loop.
   * @defaultValue 3
   */
  readonly maxStrikes?: number;
  /**
   * What to do about each fault.
   * @defaultValue the default plan
   */
  readonly plan?: RecoveryPlan;
  /**
   * Policies every handler call runs inside (a timeout, a breaker, ...).
   * @defaultValue none: the handler is called directly
   */
  readonly pipeline?: PipelineLike;
  /**
   * Turns errors into faults.
   * @defaultValue the built-in classifiers on the worker's clock
   */
  readonly classify?: ClassifyFunction;
  /**
   * Total time a worker may keep its queue paused; beyond it a pausing job is dead-lettered.
   * @defaultValue 1 h
   */
  readonly pauseBudgetMs?: number;
  /**
   * Called once when a fault's decision is `abort`: hand it to the lifecycle to shut down.
   * @defaultValue none: the worker stops claiming and emits `aborted`
   */
  readonly onAbort?: (decision: Decision) => void;
  /**
   * How often the retention policy is applied: 1,000 ms to 2^31-1 ms, or Infinity for never.
   * @defaultValue 60,000 ms
   */
  readonly pruneEveryMs?: number;
  /**
   * The longest fault message kept in an attempt record or dead letter; a longer one keeps its
   * start and ends with "…[cut N chars]".
   * @defaultValue 4,096 characters
   */
  readonly maxMessageChars?: number;
  /**
   * Identifies this worker in leases and attempt histories.
   * @defaultValue host:pid:random
   */
  readonly workerId?: string;
  /**
   * Keep the process alive while the worker waits for work.
   * @defaultValue true
   */
  readonly keepAlive?: boolean;
  /**
   * Leases, polls and timestamps.
   * @defaultValue the queue's clock
   */
  readonly clock?: Clock;
}

export interface ResolvedWorkerOptions {
  readonly concurrency: number;
  readonly leaseMs: number;
  /** A claim is started only while at least this much of its lease is left (leaseMs / 4). */
  readonly startMarginMs: number;
  readonly heartbeatMs: number;
  readonly pollMs: number;
  readonly batchSize: number;
  /** Jobs held ahead at the start. */
  readonly prefetch: number;
  /** The most jobs held ahead: `prefetch` when set, else what fast jobs may grow it to. */
  readonly maxPrefetch: number;
  readonly maxStrikes: number;
  readonly plan: RecoveryPlan;
  readonly pipeline: PipelineLike | undefined;
  readonly classify: ClassifyFunction;
  readonly pauseBudgetMs: number;
  readonly onAbort: ((decision: Decision) => void) | undefined;
  readonly pruneEveryMs: number;
  readonly maxMessageChars: number;
  readonly workerId: string;
  readonly keepAlive: boolean;
}

const KEYS = [
  'concurrency',
  'leaseMs',
  'heartbeatMs',
  'pollMs',
  'batchSize',
  'prefetch',
  'maxStrikes',
  'plan',
  'pipeline',
  'classify',
  'pauseBudgetMs',
  'onAbort',
  'pruneEveryMs',
  'maxMessageChars',
  'workerId',
  'keepAlive',
  'clock',
];

export const DEFAULT_LEASE_MS = 4_000;
/** Where an unset `prefetch` stops growing (held jobs are struck too when the process dies). */
const MAX_GROWN_PREFETCH = 1_000;
/** The shortest retention sweep interval a worker accepts. */
export const MIN_PRUNE_EVERY_MS = 1_000;
export const DEFAULT_MAX_MESSAGE_CHARS = 4_096;

export function resolveWorkerOptions(options: WorkerOptions, clock: Clock): ResolvedWorkerOptions {
  const opts = check.plainObject('worker options', options);
  check.knownKeys('worker', opts, KEYS);
  check.clock('worker.clock', clock);
  const concurrency = check.positiveInteger('concurrency', options.concurrency ?? 10);
  const leaseMs = check.positiveNumber('leaseMs', options.leaseMs ?? DEFAULT_LEASE_MS);
  const heartbeatMs = check.positiveNumber('heartbeatMs', options.heartbeatMs ?? leaseMs / 4);
  if (heartbeatMs >= leaseMs)
    throw check.configError('heartbeatMs', heartbeatMs, `less than leaseMs (${leaseMs})`);
  const prefetch = check.nonNegativeInteger('prefetch', options.prefetch ?? 3 * concurrency);
  const maxPrefetch =
    options.prefetch === undefined
      ? Math.max(prefetch, Math.min(20 * concurrency, MAX_GROWN_PREFETCH))
      : prefetch;
  const plan = options.plan ?? defaultPlan;
  if (typeof plan !== 'object' || plan === null || typeof plan.decide !== 'function') {
    throw check.configError('plan', plan, 'a RecoveryPlan');
  }
  if (
    options.pipeline !== undefined &&
    (typeof options.pipeline !== 'object' || typeof options.pipeline?.execute !== 'function')
  ) {
    throw check.configError(
      'pipeline',
      options.pipeline,
      'a policy or pipeline with execute(fn, options)',
    );
  }
  const workerId =
    options.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  if (typeof workerId !== 'string' || workerId.length === 0)
    throw check.configError('workerId', workerId, 'a non-empty string');
  return {
    concurrency,
    leaseMs,
    // One heartbeat (by default) and the clock skew between workers must fit in what is left.
    startMarginMs: leaseMs / 4,
    heartbeatMs,
    pollMs: check.positiveNumber('pollMs', options.pollMs ?? 500),
    batchSize: check.positiveInteger('batchSize', options.batchSize ?? concurrency + maxPrefetch),
    prefetch,
    maxPrefetch,
    maxStrikes: check.positiveInteger('maxStrikes', options.maxStrikes ?? 3),
    plan,
    pipeline: options.pipeline,
    classify:
      options.classify === undefined
        ? createClassifier({ wallTime: () => clock.wallTime() })
        : check.fn('classify', options.classify),
    pauseBudgetMs: check.limit('pauseBudgetMs', options.pauseBudgetMs ?? 3_600_000),
    onAbort:
      options.onAbort === undefined
        ? undefined
        : check.fn<(decision: Decision) => void>('onAbort', options.onAbort),
    // A sweep at most once a second: 0 would prune thousands of times a second.
    pruneEveryMs: check.intervalOrNever(
      'worker.pruneEveryMs',
      options.pruneEveryMs ?? 60_000,
      MIN_PRUNE_EVERY_MS,
    ),
    maxMessageChars: check.positiveInteger(
      'maxMessageChars',
      options.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS,
    ),
    workerId,
    keepAlive:
      options.keepAlive === undefined ? true : check.boolean('worker.keepAlive', options.keepAlive),
  };
}
