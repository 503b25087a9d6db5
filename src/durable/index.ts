export type {
  AttemptRecord,
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
  LeaseRef,
  NewJob,
  Outcome,
  PurgeQuery,
  QueueCounts,
  RetentionBound,
  RetentionPolicy,
  SettleResult,
} from './store.js';
export { JobNotFoundError, LeaseLostError, NotAFaultlineStoreError, SchemaVersionError } from './errors.js';
export type { JsonValue } from './payload.js';
export { fromJsonText, toJsonText } from './payload.js';
export type { DeadLetterFilter, DeadLetterView, EnqueueOptions, QueueEvents, QueueHealth, QueueOptions, QueueStats } from './queue.js';
export { DEFAULT_RETENTION, Queue } from './queue.js';
export type { JobContext, JobHandler, WorkerEvents } from './worker.js';
export { Worker } from './worker.js';
export type { PipelineLike, WorkerOptions } from './worker-options.js';
export { DEFAULT_LEASE_MS } from './worker-options.js';
export type { WorkerSummary } from './worker-summary.js';
export type { CheckpointerOptions } from './checkpointer.js';
export { Checkpointer, checkpointer } from './checkpointer.js';
