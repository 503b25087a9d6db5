import { open, stat } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ConfigError } from '../../src/faults/errors.js';
import * as check from '../../src/validate/validate.js';
import { Checkpointer } from '../../src/durable/checkpointer.js';
import type { DurableStore } from '../../src/durable/store.js';
import { classify } from '../../src/faults/classify.js';
import { RetriesExhaustedError } from '../../src/faults/errors.js';
import type { FaultCategory } from '../../src/faults/fault.js';
import { pipeline } from '../../src/policies/pipeline.js';
import { RetryPolicy } from '../../src/policies/retry.js';
import { exponentialBackoff } from '../../src/recovery/backoff.js';
import { recoveryPlan } from '../../src/recovery/plan.js';
import { ChaosPolicy } from '../../src/testing/chaos.js';
import type { Clock } from '../../src/time/clock.js';
import { systemClock } from '../../src/time/system-clock.js';

/**
 * The chunked uploader's core (scenario 4): a file goes to S3 as a multipart upload, one part
 * after another. Each part is retried on transient faults by a faultline `retry`; the uploaded
 * parts (number and ETag) are saved by a `Checkpointer` after every part, so a run that crashed
 * resumes with the same upload id and sends only the parts the checkpoint does not hold. When
 * `stopping` aborts (SIGTERM), the running part finishes and no new one starts; when `signal`
 * aborts (the grace period is over), the running part is cut off and marked interrupted. Either
 * way the checkpoint is flushed before this returns.
 */

export interface UploadOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly file: string;
  /** Bytes per part: at least `minPartSize` (S3's 5 MiB), except the last part, which may be smaller. */
  readonly partSize: number;
  /** The smallest part allowed (default 5 MiB, S3's rule; s3rver does not enforce it, so `--local` lowers it). */
  readonly minPartSize?: number;
  /** Attempts per S3 call (default 3, the system's), waiting `retryInitialMs` then doubling up to 10 s. */
  readonly maxAttempts?: number;
  /** Where the checkpoint lives (a SqliteStore in main.ts). */
  readonly store: DurableStore;
  /** Default: `upload:<bucket>/<key>`. */
  readonly checkpointKey?: string;
  /** Start no new part once this aborts (the lifecycle's `stopping`). */
  readonly stopping?: AbortSignal;
  /** Cut the running part off when this aborts (the lifecycle's `signal`). */
  readonly signal?: AbortSignal;
  /** First retry delay, doubled per attempt with full jitter (default 1 s, the system's). */
  readonly retryInitialMs?: number;
  /** Inject transient faults into this share of part uploads (a demo of the retries; default 0). */
  readonly chaosRate?: number;
  /** Seed of the injected faults, to replay a run (default: from the time). */
  readonly chaosSeed?: number;
  /** Wait this long before sending each part: a slow link, so a person (or a test) can interrupt midway. */
  readonly partDelayMs?: number;
  readonly clock?: Clock;
  readonly log?: (line: string) => void;
}

export interface UploadedPart {
  readonly n: number;
  readonly etag: string;
  readonly size: number;
}

export interface FailedPart {
  readonly n: number;
  readonly category: FaultCategory;
  readonly message: string;
  readonly attempts: number;
}

/** What the checkpoint holds: enough to resume the same multipart upload. */
export interface UploadCheckpoint {
  readonly bucket: string;
  readonly key: string;
  readonly fileSize: number;
  readonly partSize: number;
  readonly uploadId: string;
  readonly parts: readonly UploadedPart[];
  /** Parts that failed for good in a run (retried on the next one). */
  readonly failed: readonly FailedPart[];
  /** Parts cut off by a shutdown (sent again on the next run). */
  readonly interrupted: readonly number[];
  /** Set once CompleteMultipartUpload succeeded. */
  readonly completedEtag?: string;
}

/** One entry of the failed-uploads set: an upload that failed for good and was aborted. */
export interface FailedUpload {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly category: FaultCategory;
  readonly message: string;
  /** Whether AbortMultipartUpload succeeded (false: parts may still be stored, and billed). */
  readonly aborted: boolean;
  readonly at: number;
}

/** The store key of the failed-uploads set (the system's `streams:failed`). */
export const FAILED_UPLOADS_KEY = 'uploads:failed';
export const S3_MIN_PART_SIZE = 5 * 1024 * 1024;
const S3_MAX_PARTS = 10_000;

/**
 * `failed`: some parts failed on transient faults; the checkpoint keeps the upload, the next run
 * tries them again. `aborted`: a part failed for good (credentials, permissions, a permanent
 * error): the multipart upload was aborted so no orphaned parts stay stored (and billed), and it
 * was added to the failed-uploads set.
 */
export type UploadStatus =
  | 'completed'
  | 'already_completed'
  | 'stopped'
  | 'interrupted'
  | 'failed'
  | 'aborted';

export interface UploadResult {
  readonly status: UploadStatus;
  readonly uploadId: string;
  readonly totalParts: number;
  /** Parts the checkpoint held when this run started. */
  readonly resumedParts: number;
  /** Parts this run uploaded (sent and acknowledged). */
  readonly sentParts: readonly number[];
  readonly failed: readonly FailedPart[];
  readonly interrupted: readonly number[];
  readonly etag?: string;
}

export async function uploadFile(options: UploadOptions): Promise<UploadResult> {
  const { s3, bucket, key } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => {});
  check.positiveInteger('partSize', options.partSize);
  const minPartSize = options.minPartSize ?? S3_MIN_PART_SIZE;
  if (options.partSize < minPartSize) {
    throw new ConfigError(
      'partSize',
      options.partSize,
      `at least ${minPartSize} bytes (S3 refuses parts under 5 MiB but the last; --local allows smaller ones for s3rver)`,
    );
  }
  const fileSize = (await stat(options.file)).size;
  const totalParts = Math.max(1, Math.ceil(fileSize / options.partSize));
  if (totalParts > S3_MAX_PARTS)
    throw new ConfigError(
      'partSize',
      options.partSize,
      `large enough for at most ${S3_MAX_PARTS} parts (the file has ${fileSize} bytes)`,
    );
  // One save per part: a part is worth a write, and a crash then loses nothing acknowledged.
  const checkpoints = new Checkpointer<UploadCheckpoint>(
    options.store,
    options.checkpointKey ?? `upload:${bucket}/${key}`,
    { everyItems: 1, clock },
  );

  const retry = new RetryPolicy({
    clock,
    maxAttempts: options.maxAttempts ?? 3,
    plan: recoveryPlan({
      backoff: exponentialBackoff({
        initialMs: options.retryInitialMs ?? 1_000,
        maxDelayMs: 10_000,
      }),
    }),
  });
  retry.events.on('retry', (e) => log(`  ${e.reason}`));

  let state = await checkpoints.load();
  if (
    state !== undefined &&
    (state.bucket !== bucket ||
      state.key !== key ||
      state.fileSize !== fileSize ||
      state.partSize !== options.partSize)
  ) {
    log('the checkpoint is for another file or part size: starting a new upload');
    state = undefined;
  }
  if (state?.completedEtag !== undefined) {
    log(`already uploaded (upload ${state.uploadId}, ETag ${state.completedEtag})`);
    return {
      status: 'already_completed',
      uploadId: state.uploadId,
      totalParts,
      resumedParts: state.parts.length,
      sentParts: [],
      failed: [],
      interrupted: [],
      etag: state.completedEtag,
    };
  }
  if (state === undefined) {
    const created = await retry.execute(
      ({ signal }) =>
        s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }), {
          abortSignal: signal,
        }),
      options.signal === undefined ? undefined : { signal: options.signal },
    );
    if (created.UploadId === undefined)
      throw new Error('CreateMultipartUpload returned no UploadId');
    state = {
      bucket,
      key,
      fileSize,
      partSize: options.partSize,
      uploadId: created.UploadId,
      parts: [],
      failed: [],
      interrupted: [],
    };
    await checkpoints.record(state);
    log(`started upload ${state.uploadId}: ${totalParts} parts of ${options.partSize} bytes`);
  } else {
    log(
      `resuming upload ${state.uploadId}: ${state.parts.length} of ${totalParts} parts already uploaded`,
    );
    state = await reconcileWithS3(state, s3, retry, log);
  }
  const uploadId = state.uploadId;
  const resumedParts = state.parts.length;
  const done = new Map(state.parts.map((p) => [p.n, p]));
  const failed = new Map<number, FailedPart>();
  const interrupted: number[] = [];
  const sentParts: number[] = [];
  const save = () =>
    checkpoints.record({
      ...state!,
      parts: [...done.values()].sort((a, b) => a.n - b.n),
      failed: [...failed.values()],
      interrupted: [...interrupted],
    });

  const guarded = options.chaosRate
    ? pipeline(
        retry,
        new ChaosPolicy({
          errorRate: options.chaosRate,
          seed: options.chaosSeed ?? Date.now() % 1_000_000,
          clock,
        }),
      )
    : retry;

  const handle = await open(options.file, 'r');
  let stoppedEarly = false;
  let failedForGood: { readonly category: FaultCategory; readonly message: string } | undefined;
  try {
    for (let n = 1; n <= totalParts; n++) {
      if (done.has(n)) continue;
      if (options.stopping?.aborted || options.signal?.aborted) {
        stoppedEarly = true;
        break;
      }
      const offset = (n - 1) * options.partSize;
      const size = Math.min(options.partSize, fileSize - offset);
      const body = Buffer.alloc(size);
      await handle.read(body, 0, size, offset);
      let attempts = 0;
      try {
        if (options.partDelayMs) await clock.sleep(options.partDelayMs, options.signal);
        const etag = await guarded.execute(
          async ({ signal }) => {
            attempts++;
            const res = await s3.send(
              new UploadPartCommand({
                Bucket: bucket,
                Key: key,
                UploadId: uploadId,
                PartNumber: n,
                Body: body,
              }),
              { abortSignal: signal },
            );
            if (res.ETag === undefined) throw new Error(`UploadPart ${n} returned no ETag`);
            return res.ETag;
          },
          options.signal === undefined ? undefined : { signal: options.signal },
        );
        done.set(n, { n, etag, size });
        failed.delete(n);
        sentParts.push(n);
        await save();
        log(`part ${n}/${totalParts} uploaded (${size} bytes, ETag ${etag}), checkpoint saved`);
      } catch (error) {
        if (options.signal?.aborted) {
          // The grace period ran out mid-part: S3 may or may not hold it, so it is sent again next run.
          interrupted.push(n);
          await save();
          log(`part ${n}/${totalParts} interrupted by shutdown; it will be sent again on resume`);
          stoppedEarly = true;
          break;
        }
        const fault = error instanceof RetriesExhaustedError ? error.lastFault : classify(error);
        // The retry counts attempts stopped before the request too (an injected fault, a spent budget).
        const tried =
          error instanceof RetriesExhaustedError ? error.attempts : Math.max(1, attempts);
        failed.set(n, {
          n,
          category: fault.category,
          message: error instanceof Error ? error.message : fault.message,
          attempts: tried,
        });
        await save();
        log(
          `part ${n}/${totalParts} FAILED (${fault.category}) after ${tried} attempt(s): ${fault.message}`,
        );
        // A fault that retrying cannot fix (credentials, permissions, a permanent error) fails the
        // whole upload: abort it, so the parts already stored do not stay (and cost) forever.
        if (!fault.retryable) {
          failedForGood = fault;
          break;
        }
      }
    }
  } finally {
    await handle.close();
    await checkpoints.flush();
  }

  const result = {
    uploadId,
    totalParts,
    resumedParts,
    sentParts,
    failed: [...failed.values()],
    interrupted,
  };
  if (failedForGood !== undefined) {
    return abortUpload({
      state,
      fault: failedForGood,
      s3,
      retry,
      store: options.store,
      checkpoints,
      log,
      clock,
      result,
    });
  }
  if (interrupted.length > 0) return { ...result, status: 'interrupted' };
  if (stoppedEarly) return { ...result, status: 'stopped' };
  if (done.size < totalParts) return { ...result, status: 'failed' };

  const parts = [...done.values()].sort((a, b) => a.n - b.n);
  const completed = await retry.execute(() =>
    s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.n, ETag: p.etag })) },
      }),
    ),
  );
  const etag = completed.ETag ?? '';
  await checkpoints.record({ ...state, parts, failed: [], interrupted: [], completedEtag: etag });
  await checkpoints.flush();
  log(`completed ${bucket}/${key}: ${totalParts} parts, ETag ${etag}`);
  return { ...result, status: 'completed', etag };
}

/**
 * Where the service supports ListParts, S3's own list decides what is uploaded: a part sent but
 * not yet checkpointed (a crash between the two) is not sent again, and a checkpointed part S3
 * does not hold (it was lost) is. Without ListParts (s3rver) the checkpoint is the record.
 */
async function reconcileWithS3(
  state: UploadCheckpoint,
  s3: S3Client,
  retry: RetryPolicy,
  log: (line: string) => void,
): Promise<UploadCheckpoint> {
  const listed: UploadedPart[] = [];
  try {
    let marker: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await retry.execute(() =>
        s3.send(
          new ListPartsCommand({
            Bucket: state.bucket,
            Key: state.key,
            UploadId: state.uploadId,
            ...(marker === undefined ? {} : { PartNumberMarker: marker }),
          }),
        ),
      );
      for (const p of res.Parts ?? []) {
        if (p.PartNumber !== undefined && p.ETag !== undefined)
          listed.push({ n: p.PartNumber, etag: p.ETag, size: p.Size ?? 0 });
      }
      if (!res.IsTruncated || res.NextPartNumberMarker === undefined) break;
      marker = res.NextPartNumberMarker;
    }
  } catch (error) {
    log(
      `ListParts is not available (${error instanceof Error ? error.message.slice(0, 120) : 'error'}): resuming from the checkpoint alone`,
    );
    return state;
  }
  const expected = (n: number) =>
    Math.min(state.partSize, state.fileSize - (n - 1) * state.partSize);
  const parts = listed.filter((p) => p.size === expected(p.n)).sort((a, b) => a.n - b.n);
  const known = new Set(state.parts.map((p) => p.n));
  const added = parts.filter((p) => !known.has(p.n)).map((p) => p.n);
  const dropped = state.parts.filter((p) => !parts.some((q) => q.n === p.n)).map((p) => p.n);
  log(
    `ListParts: S3 holds ${parts.length} part(s)${added.length > 0 ? `; not sending again ${added.join(', ')} (uploaded, not yet checkpointed)` : ''}${dropped.length > 0 ? `; sending again ${dropped.join(', ')} (missing in S3)` : ''}`,
  );
  return { ...state, parts };
}

interface AbortInput {
  readonly state: UploadCheckpoint;
  readonly fault: { readonly category: FaultCategory; readonly message: string };
  readonly s3: S3Client;
  readonly retry: RetryPolicy;
  readonly store: DurableStore;
  readonly checkpoints: Checkpointer<UploadCheckpoint>;
  readonly log: (line: string) => void;
  readonly clock: Clock;
  readonly result: Omit<UploadResult, 'status'>;
}

/** Aborts the multipart upload (retried), records it in the failed-uploads set and forgets its checkpoint. */
async function abortUpload(input: AbortInput): Promise<UploadResult> {
  const { state, log } = input;
  let aborted = false;
  try {
    await input.retry.execute(({ signal }) =>
      input.s3.send(
        new AbortMultipartUploadCommand({
          Bucket: state.bucket,
          Key: state.key,
          UploadId: state.uploadId,
        }),
        { abortSignal: signal },
      ),
    );
    aborted = true;
    log(
      `aborted upload ${state.uploadId} (${input.fault.category}: ${input.fault.message}); its stored parts are deleted`,
    );
  } catch (error) {
    log(
      `could not abort upload ${state.uploadId}: ${error instanceof Error ? error.message : String(error)}; its parts may still be stored`,
    );
  }
  const failedSet = new Checkpointer<FailedUpload[]>(input.store, FAILED_UPLOADS_KEY, {
    everyItems: 1,
    clock: input.clock,
  });
  const entries = (await failedSet.load()) ?? [];
  const entry: FailedUpload = {
    bucket: state.bucket,
    key: state.key,
    uploadId: state.uploadId,
    category: input.fault.category,
    message: input.fault.message.slice(0, 500),
    aborted,
    at: input.clock.wallTime(),
  };
  await failedSet.record(
    [...entries.filter((e) => e.uploadId !== state.uploadId), entry].slice(-1_000),
  );
  await failedSet.flush();
  // A rerun starts a new upload: the aborted one cannot take parts any more.
  if (aborted) await input.checkpoints.clear();
  return { ...input.result, status: 'aborted' };
}

/** The failed-uploads set, for a report or a cleanup job. */
export async function failedUploads(store: DurableStore): Promise<FailedUpload[]> {
  return (await new Checkpointer<FailedUpload[]>(store, FAILED_UPLOADS_KEY).load()) ?? [];
}
