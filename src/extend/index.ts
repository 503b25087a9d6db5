/**
 * faultline/extend: what authors of policies and stores build on. The root entry `faultline` is
 * for using the library; this entry is for growing it, and is documented in docs/extend.md.
 *
 * - A policy: `enterCall` is the one door every built-in policy's `execute` goes through (signal,
 *   operation, refusal); `RefusedCall`/`isRefused` mark a call refused without running;
 *   `StatsCounter` keeps the counts behind `stats()`; `contextFrom`, `toOperation`
 *   and `withOperation` build the context handed to the protected function.
 * - A shared circuit breaker: `BreakerStateMachine` is the breaker's state machine without timers
 *   (the Redis breaker shares its open-until decision across processes).
 * - A store: the rules every store applies alike (pauses, crash loops, "forever" encoded in a
 *   number column), so a new store agrees with the built-in ones.
 * - Options: `validate`, the checks that throw `ConfigError` naming the option; `scoped('myPolicy')`,
 *   the same checks naming every option from the factory (`myPolicy.maxWaitMs`).
 * - A driver: `loadPeer` loads an optional peer dependency or throws `MissingPeerError`.
 */
export { enterCall, isRefused, RefusedCall } from '../policies/call-entry.js';
export { StatsCounter } from '../policies/stats.js';
export { contextFrom, toOperation, withOperation } from '../policies/policy.js';
export { BreakerStateMachine } from '../policies/breaker-state.js';
export type { BreakerTiming, CircuitState } from '../policies/breaker-state.js';
export type { TriggerStrategy } from '../policies/breaker-trigger.js';
export { scoped } from '../validate/scoped.js';
export type { ScopedChecks } from '../validate/scoped.js';
export {
  crashLoopFault,
  decodeUntil,
  encodeUntil,
  FOREVER_MS,
  mergePause,
  pauseInForce,
  refuseTransaction,
} from '../durable/store-rules.js';
export * as validate from '../validate/validate.js';
export { loadPeer, OPTIONAL_PEERS } from '../peers/optional-peer.js';
export type { OptionalPeer } from '../peers/optional-peer.js';
