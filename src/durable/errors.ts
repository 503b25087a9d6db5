import { FaultlineError } from '../faults/errors.js';

/** A requeue (or another by-id operation) named a job that is not there. Nothing was written. */
export class JobNotFoundError extends FaultlineError {
  readonly category = 'validation' as const;
  readonly retryable = false;
  constructor(
    readonly jobId: string,
    what = 'job',
  ) {
    super(`No ${what} with id ${JSON.stringify(jobId)}`);
  }
}

/** The file or database given to a store is not a faultline store. Nothing was written to it. */
export class NotAFaultlineStoreError extends FaultlineError {
  readonly category = 'validation' as const;
  readonly retryable = false;
  constructor(
    readonly location: string,
    detail: string,
  ) {
    super(`${location} is not a faultline store: ${detail}`);
  }
}

/** The store was written by a newer faultline (a schema version this code does not know). Nothing was written. */
export class SchemaVersionError extends FaultlineError {
  readonly category = 'permanent' as const;
  readonly retryable = false;
  constructor(
    readonly location: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `${location} has schema version ${found}; this faultline supports up to ${supported}. Upgrade faultline to open it.`,
    );
  }
}

/** A worker's lease on a job was taken over (it expired and another worker claimed the job). */
export class LeaseLostError extends FaultlineError {
  readonly category = 'cancelled' as const;
  readonly retryable = false;
  constructor(readonly jobId: string) {
    super(`The lease on job ${jobId} was lost: another worker may be running it`);
  }
}
