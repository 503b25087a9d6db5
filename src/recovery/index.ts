export type {
  Backoff,
  ConstantBackoffOptions,
  ExponentialBackoffOptions,
  Jitter,
  LinearBackoffOptions,
} from './backoff.js';
export { constantBackoff, exponentialBackoff, isBackoff, linearBackoff } from './backoff.js';
export type {
  DecideInput,
  Decision,
  DecisionAction,
  RecoveryPlanOptions,
  ResolvedRule,
} from './plan.js';
export { DEFAULT_RULES, defaultPlan, formatMs, RecoveryPlan, recoveryPlan } from './plan.js';
export type { RandomSource } from './random.js';
export { seededRandom } from './random.js';
export type {
  PauseRule,
  RecoveryAction,
  RecoveryRule,
  RecoveryRuleInput,
  RetryRule,
  TerminalRule,
} from './rules.js';
