export type {
  AttemptRecord,
  CategoryCount,
  DeadLetterCursor,
  SharedBreakerState,
  SharedBudgetState,
  SharedLimiterState,
  SharedStateReport,
  Throughput,
  ThroughputRequest,
  CheckpointRecord,
  ClaimedJob,
  ClaimRequest,
  DeadLetter,
  DeadLetterQuery,
  DeadLetterSelector,
  DurableStore,
  EnqueueResult,
  FaultSummary,
  JobRecord,
  JobState,
  LeaseHolder,
  LeaseRef,
  NewJob,
  Outcome,
  PurgeQuery,
  QueueCounts,
  RetentionBound,
  RetentionPolicy,
  SettleResult,
  SqlExecutor,
  StoreEnqueueOptions,
} from './store.js';
export {
  JobNotFoundError,
  LeaseLostError,
  NotAFaultlineStoreError,
  SchemaVersionError,
} from './errors.js';
export type { JsonValue } from './payload.js';
export { fromJsonText, toJsonText } from './payload.js';
export type {
  DeadLetterFilter,
  DeadLetterView,
  EnqueueCall,
  EnqueueInterceptor,
  EnqueueOptions,
  QueueEvents,
  QueueHealth,
  QueueOptions,
  QueueStats,
  TransactionOptions,
} from './queue.js';
export { DEFAULT_RETENTION, Queue } from './queue.js';
export type { JobContext, JobHandler, RunInterceptor, WorkerEvents } from './worker.js';
export type { JobHeaders } from './headers.js';
export { MAX_HEADER_ENTRIES, MAX_HEADERS_LENGTH } from './headers.js';
export type { Interceptor } from './interceptors.js';
export { Worker } from './worker.js';
export type { PipelineLike, WorkerOptions } from './worker-options.js';
export { DEFAULT_LEASE_MS } from './worker-options.js';
export type { WorkerSummary } from './worker-summary.js';
export type {
  CheckpointerEvents,
  CheckpointerOptions,
  CheckpointFailedEvent,
  CheckpointSavedEvent,
} from './checkpointer.js';
export { Checkpointer, checkpointer } from './checkpointer.js';
export type { SanitizedCause } from './store-errors.js';
export { StoreConnectionError, StoreError, StoreFileGoneError } from './store-errors.js';
