/**
 * Chunked uploader:  npx tsx examples/chunk-uploader/main.ts [options]
 *
 * Uploads a file in parts to S3 with the AWS SDK v3 client — credentials and region from the
 * SDK's default chains (AWS_PROFILE, AWS_REGION, ~/.aws, roles ...) — checkpointing every part
 * in SQLite. `--endpoint` points it at MinIO or another S3-compatible service. `--local` starts
 * s3rver on 127.0.0.1 instead, with its dummy credentials (the demo and the tests). Ctrl-C (or
 * SIGTERM) lets the running part finish, saves the checkpoint and exits 143; a crash loses nothing
 * acknowledged. Run it again to resume. A part that fails for good aborts the multipart upload.
 *
 *   --local               start s3rver (or use --endpoint with s3rver's credentials); parts may be < 5 MiB
 *   --file <path>         the file to upload (default: a generated demo file, 3 MiB with --local, 16 MiB without)
 *   --work <dir>          where the demo file, the SQLite checkpoint and s3rver's data live
 *                         (default: <tmp>/faultline-chunk-uploader, so a rerun resumes)
 *   --db <path>           the SQLite store (default <work>/uploader.db)
 *   --endpoint <url>      an S3-compatible endpoint (MinIO: add --path-style)
 *   --bucket <name>       default "archive";  --key <key>: default the file's name
 *   --part-size <bytes>   default 5 MiB (S3's minimum), 256 KiB with --local
 *   --part-delay-ms <ms>  a slow link: wait before each part (default 0; the demo without --file uses 300)
 *   --chaos-rate <0..1>   inject transient faults into part uploads to watch the retries
 *   --grace-ms <ms>       how long a shutdown waits for the running part (default 10000)
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { classify } from '../../src/faults/classify.js';
import { lifecycle } from '../../src/lifecycle/index.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { startLocalS3 } from './local-s3.js';
import { localS3Client, s3Client } from './s3-client.js';
import { failedUploads, S3_MIN_PART_SIZE, type UploadResult, uploadFile } from './uploader.js';

const { values } = parseArgs({
  options: {
    file: { type: 'string' },
    work: { type: 'string' },
    db: { type: 'string' },
    endpoint: { type: 'string' },
    bucket: { type: 'string' },
    key: { type: 'string' },
    'part-size': { type: 'string' },
    'part-delay-ms': { type: 'string' },
    'chaos-rate': { type: 'string' },
    'grace-ms': { type: 'string' },
    local: { type: 'boolean', default: false },
    'path-style': { type: 'boolean', default: false },
  },
});
const local = values.local;
const number = (name: string, text: string | undefined, fallback: number): number => {
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`--${name} must be a number >= 0, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return value;
};
const work = values.work ?? join(tmpdir(), 'faultline-chunk-uploader');
mkdirSync(work, { recursive: true });
let file = values.file;
if (file === undefined) {
  file = join(work, 'demo.bin');
  if (!existsSync(file)) writeFileSync(file, randomBytes((local ? 3 : 16) * 1024 * 1024));
}
const bucket = values.bucket ?? 'archive';
const key = values.key ?? basename(file);
const partSize = number('part-size', values['part-size'], local ? 256 * 1024 : S3_MIN_PART_SIZE);
const partDelayMs = number(
  'part-delay-ms',
  values['part-delay-ms'],
  values.file === undefined ? 300 : 0,
);
const chaosRate = number('chaos-rate', values['chaos-rate'], 0);
const graceMs = number('grace-ms', values['grace-ms'], 10_000);

const lc = lifecycle({ graceMs, log: (line) => console.log(line) });
let endpoint = values.endpoint;
if (local && endpoint === undefined) {
  const server = await startLocalS3({ directory: join(work, 's3'), buckets: [bucket] });
  lc.onCleanup('s3 server', () => server.close());
  endpoint = server.endpoint;
}
const store = new SqliteStore(values.db ?? join(work, 'uploader.db'));
lc.onCleanup('checkpoint store', () => store.close());
const s3 = local
  ? localS3Client(endpoint!)
  : s3Client({ ...(endpoint === undefined ? {} : { endpoint }), pathStyle: values['path-style'] });
lc.onCleanup('s3 client', () => s3.destroy());

console.log(
  `uploading ${file} to ${endpoint ?? 's3:/'}/${bucket}/${key}${local ? ' (local s3rver)' : ''}`,
);
let result: UploadResult;
try {
  result = await lc.track(
    (signal) =>
      uploadFile({
        s3,
        bucket,
        key,
        file,
        partSize,
        // s3rver accepts small parts (the demo's 12 parts of 256 KiB); S3 and MinIO do not.
        ...(local ? { minPartSize: 1 } : {}),
        store,
        stopping: lc.stopping,
        signal,
        partDelayMs,
        chaosRate,
        log: (line) => console.log(line),
      }),
    'upload',
  );
} catch (error) {
  // Starting or completing the upload failed for good (no server, bad credentials, no such bucket).
  const fault = classify(error);
  console.error(`upload failed (${fault.category}): ${fault.message}`);
  for (const suggestion of fault.suggestions) console.error(`  → ${suggestion}`);
  await lc.shutdown('upload failed', 1);
  throw error;
}

if (result.status === 'completed' || result.status === 'already_completed') {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const stored = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
  const same = stored.equals(readFileSync(file));
  console.log(
    `verified: the stored object ${same ? 'equals' : 'DIFFERS FROM'} the file (sha256 ${createHash('sha256').update(stored).digest('hex').slice(0, 16)}…)`,
  );
  await lc.shutdown('upload finished', same ? 0 : 1);
} else if (result.status === 'aborted') {
  for (const f of await failedUploads(store))
    console.log(
      `failed upload ${f.bucket}/${f.key} (${f.uploadId}): ${f.category}: ${f.message}; ${f.aborted ? 'aborted' : 'NOT aborted: its parts may still be stored'}`,
    );
  console.log(
    'Exit code 1: the upload failed for good and was aborted; fix the cause and run again to start a new upload',
  );
  await lc.shutdown('upload aborted', 1);
} else if (result.status === 'failed') {
  for (const f of result.failed)
    console.log(`failed part ${f.n}: ${f.category} after ${f.attempts} attempt(s): ${f.message}`);
  console.log('run again to retry the failed parts');
  await lc.shutdown('upload failed', 1);
} else {
  const uploaded = result.resumedParts + result.sentParts.length;
  console.log(
    `stopped: ${uploaded} of ${result.totalParts} parts uploaded, checkpoint saved${result.interrupted.length > 0 ? `, part(s) ${result.interrupted.join(', ')} interrupted` : ''}; run again to resume`,
  );
  await lc.done;
}
