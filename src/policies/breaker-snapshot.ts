import { scoped } from '../validate/scoped.js';
import type { CircuitState } from './breaker-state.js';

/** Every option error names the option from `circuitBreaker`. */
const check = scoped('circuitBreaker');

/**
 * A circuit breaker's state as JSON: enough to restart a process (or hand the state to
 * another one) without closing a circuit that should stay open. Times are wall-clock epoch
 * ms, since the monotonic clock means nothing across processes. Failure windows are not
 * included: a restored closed circuit starts counting afresh.
 */
export interface CircuitBreakerSnapshot {
  readonly version: 1;
  readonly state: CircuitState;
  /** When an open circuit may probe (wall clock, epoch ms). Only for `open`. */
  readonly openUntil?: number;
  /** Opens in a row without a successful close (drives the half-open backoff). */
  readonly opens: number;
  /** Counted failures in a row (consecutive trigger only). */
  readonly consecutiveFailures: number;
}

const STATES: readonly CircuitState[] = ['closed', 'open', 'halfOpen', 'isolated'];

/** Checks a snapshot read back from storage; throws ConfigError naming the bad field. */
export function validateSnapshot(value: unknown): CircuitBreakerSnapshot {
  const s = check.plainObject('snapshot', value);
  if (s.version !== 1) throw check.configError('snapshot.version', s.version, '1');
  const state = check.oneOf('snapshot.state', s.state, STATES);
  const opens = check.nonNegativeInteger('snapshot.opens', s.opens ?? 0);
  const consecutiveFailures = check.nonNegativeInteger(
    'snapshot.consecutiveFailures',
    s.consecutiveFailures ?? 0,
  );
  if (state !== 'open') return { version: 1, state, opens, consecutiveFailures };
  const openUntil = check.nonNegativeNumber('snapshot.openUntil', s.openUntil);
  return { version: 1, state, openUntil, opens, consecutiveFailures };
}
