export type { ExecuteContext, ExecuteOptions, Operation, OperationContext, Policy, PolicyStats } from './policy.js';
export { contextFrom, NEVER_ABORTED, toOperation } from './policy.js';
export { StatsCounter } from './stats.js';
