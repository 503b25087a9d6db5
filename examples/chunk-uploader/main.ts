/**
 * Chunked uploader demo:  npx tsx examples/chunk-uploader/main.ts [options]
 *
 * Uploads a file in parts to a local S3-compatible server (s3rver, started here on 127.0.0.1)
 * with the AWS SDK v3 client, checkpointing every part in SQLite. Ctrl-C (or SIGTERM) lets the
 * running part finish, saves the checkpoint and exits 143; a crash loses nothing acknowledged.
 * Run it again to resume. Without --file it uploads a generated 3 MiB demo file.
 *
 *   --file <path>         the file to upload
 *   --work <dir>          where the demo file, the SQLite checkpoint and s3rver's data live
 *                         (default: <tmp>/faultline-chunk-uploader, so a rerun resumes)
 *   --db <path>           the SQLite store (default <work>/uploader.db)
 *   --endpoint <url>      use this S3 endpoint instead of starting s3rver
 *   --bucket <name>       default "archive";  --key <key>: default the file's name
 *   --part-size <bytes>   default 262144 (S3 itself wants >= 5 MiB; s3rver accepts less)
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
import { localS3Client } from './s3-client.js';
import { type UploadResult, uploadFile } from './uploader.js';

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
  },
});
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
  if (!existsSync(file)) writeFileSync(file, randomBytes(3 * 1024 * 1024));
}
const bucket = values.bucket ?? 'archive';
const key = values.key ?? basename(file);
const partSize = number('part-size', values['part-size'], 256 * 1024);
const partDelayMs = number('part-delay-ms', values['part-delay-ms'], values.file === undefined ? 300 : 0);
const chaosRate = number('chaos-rate', values['chaos-rate'], 0);
const graceMs = number('grace-ms', values['grace-ms'], 10_000);

const lc = lifecycle({ graceMs, log: (line) => console.log(line) });
let endpoint = values.endpoint;
if (endpoint === undefined) {
  const server = await startLocalS3({ directory: join(work, 's3'), buckets: [bucket] });
  lc.onCleanup('s3 server', () => server.close());
  endpoint = server.endpoint;
}
const store = new SqliteStore(values.db ?? join(work, 'uploader.db'));
lc.onCleanup('checkpoint store', () => store.close());
const s3 = localS3Client(endpoint);
lc.onCleanup('s3 client', () => s3.destroy());

console.log(`uploading ${file} to ${endpoint}/${bucket}/${key}`);
let result: UploadResult;
try {
  result = await lc.track(
    (signal) => uploadFile({ s3, bucket, key, file, partSize, store, stopping: lc.stopping, signal, partDelayMs, chaosRate, log: (line) => console.log(line) }),
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
  console.log(`verified: the stored object ${same ? 'equals' : 'DIFFERS FROM'} the file (sha256 ${createHash('sha256').update(stored).digest('hex').slice(0, 16)}…)`);
  await lc.shutdown('upload finished', same ? 0 : 1);
} else if (result.status === 'failed') {
  for (const f of result.failed) console.log(`failed part ${f.n}: ${f.category} after ${f.attempts} attempt(s): ${f.message}`);
  console.log('run again to retry the failed parts');
  await lc.shutdown('upload failed', 1);
} else {
  const uploaded = result.resumedParts + result.sentParts.length;
  console.log(`stopped: ${uploaded} of ${result.totalParts} parts uploaded, checkpoint saved${result.interrupted.length > 0 ? `, part(s) ${result.interrupted.join(', ')} interrupted` : ''}; run again to resume`);
  await lc.done;
}
