import { scoped } from '../validate/scoped.js';
import { FAULT_CATEGORIES, type FaultCategory } from '../faults/fault.js';
import { type Backoff, isBackoff } from './backoff.js';

/** Every option error names the option from `plan`. */
const check = scoped('plan');

export type RecoveryAction = 'retry' | 'pause' | 'skip' | 'abort' | 'fallback';

/** Try the same operation again after a backoff, up to `maxAttempts` attempts in all. */
export interface RetryRule {
  readonly action: 'retry';
  /** Attempts in all, the first included (default: the plan's). */
  readonly maxAttempts?: number;
  /** Delay schedule (default: the plan's backoff). */
  readonly backoff?: Backoff;
  /** Give up rather than wait longer than this for one retry (default 5 minutes). */
  readonly maxWaitMs?: number;
  /** Give up once this much time has passed since the first attempt (default: no limit). */
  readonly maxElapsedMs?: number;
  /**
   * What running out of attempts or time means: `give_up` (default: this one piece of work
   * failed; a worker dead-letters it) or `abort` (the dependency is out, not the item: stop the
   * whole work, as a crawler does when its network retries are spent, instead of failing every
   * remaining item in turn).
   */
  readonly whenExhausted?: 'give_up' | 'abort';
}

/**
 * Stop everything that calls this dependency until the time the server gave (Retry-After)
 * or a backoff when it gave none; then try again. A durable worker pauses the whole queue.
 */
export interface PauseRule {
  readonly action: 'pause';
  readonly maxAttempts?: number;
  /** Used when the fault carries no Retry-After (default: exponential 5 s → 5 min). */
  readonly backoff?: Backoff;
  /** Give up rather than pause longer than this at once (default 1 hour). */
  readonly maxWaitMs?: number;
  readonly maxElapsedMs?: number;
}

export interface TerminalRule {
  readonly action: 'skip' | 'abort' | 'fallback';
}

export type RecoveryRule = RetryRule | PauseRule | TerminalRule;

/** A rule as written by a user: a full rule, or just the action's name. */
export type RecoveryRuleInput = RecoveryRule | RecoveryAction;

const ACTIONS: readonly RecoveryAction[] = ['retry', 'pause', 'skip', 'abort', 'fallback'];
const WAITING_KEYS = ['action', 'maxAttempts', 'backoff', 'maxWaitMs', 'maxElapsedMs'];
const RETRY_KEYS = [...WAITING_KEYS, 'whenExhausted'];

/** Validates one rule and returns it in its full form. */
export function normaliseRule(option: string, input: unknown): RecoveryRule {
  if (typeof input === 'string') return normaliseRule(option, { action: input });
  const rule = check.plainObject(option, input);
  const action = check.oneOf(`${option}.action`, rule.action, ACTIONS);
  if (action !== 'retry' && action !== 'pause') {
    check.knownKeys(option, rule, ['action']);
    return { action };
  }
  check.knownKeys(option, rule, action === 'retry' ? RETRY_KEYS : WAITING_KEYS);
  if (rule.whenExhausted !== undefined)
    check.oneOf(`${option}.whenExhausted`, rule.whenExhausted, ['give_up', 'abort']);
  if (rule.maxAttempts !== undefined) check.countLimit(`${option}.maxAttempts`, rule.maxAttempts);
  if (rule.backoff !== undefined && !isBackoff(rule.backoff)) {
    throw check.configError(
      `${option}.backoff`,
      rule.backoff,
      'a backoff made by exponentialBackoff(), linearBackoff() or constantBackoff()',
    );
  }
  if (rule.maxWaitMs !== undefined) check.limit(`${option}.maxWaitMs`, rule.maxWaitMs);
  if (rule.maxElapsedMs !== undefined) check.limit(`${option}.maxElapsedMs`, rule.maxElapsedMs);
  return rule as unknown as RetryRule | PauseRule;
}

/** Validates a `{ [category]: value }` record, rejecting names that are not categories. */
export function categoryRecord<T>(
  option: string,
  input: unknown,
  value: (option: string, raw: unknown) => T,
): Partial<Record<FaultCategory, T>> {
  if (input === undefined) return {};
  const record = check.plainObject(option, input);
  const out: Partial<Record<FaultCategory, T>> = {};
  for (const key of Object.keys(record)) {
    if (!(FAULT_CATEGORIES as readonly string[]).includes(key)) {
      throw check.configError(
        `${option}.${key}`,
        record[key],
        `a fault category key (one of ${FAULT_CATEGORIES.join(', ')})`,
      );
    }
    out[key as FaultCategory] = value(`${option}.${key}`, record[key]);
  }
  return out;
}
