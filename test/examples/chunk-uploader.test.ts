import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalS3, startLocalS3 } from '../../examples/chunk-uploader/local-s3.js';
import { localS3Client } from '../../examples/chunk-uploader/s3-client.js';
import {
  failedUploads,
  type UploadCheckpoint,
  uploadFile,
} from '../../examples/chunk-uploader/uploader.js';
import { Checkpointer } from '../../src/durable/checkpointer.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { TSX } from '../cli/run-cli.js';

/**
 * End to end with real child processes: the example uploads a file in 12 parts of 64 KiB (the
 * last one shorter; s3rver does not enforce S3's 5 MiB minimum) through the AWS SDK v3 client to
 * s3rver, is killed (SIGKILL) or stopped (SIGTERM) once it prints that some parts are done, and
 * a second run resumes from the SQLite checkpoint and completes.
 */
const MAIN = fileURLToPath(new URL('../../examples/chunk-uploader/main.ts', import.meta.url));
const PART = 64 * 1024;
const PARTS = 12;
const KEY = 'backup.bin';

let dir: string | undefined;
let s3: LocalS3 | undefined;
const children = new Set<ChildProcess>();
afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  await s3?.close();
  s3 = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the example; once stdout shows `trigger`, sends `send` to it (once). */
function runExample(
  args: string[],
  trigger?: { text: string; send: NodeJS.Signals },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (trigger !== undefined && !sent && stdout.includes(trigger.text)) {
        sent = true;
        child.kill(trigger.send);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A file of 11 full parts and a shorter 12th. */
function sourceFile(): { path: string; bytes: Buffer } {
  const bytes = randomBytes(PART * (PARTS - 1) + 12_345);
  const path = join(dir!, 'source.bin');
  writeFileSync(path, bytes);
  return { path, bytes };
}

/** Part numbers the run printed as uploaded (each line is printed after its checkpoint was saved). */
function uploadedParts(stdout: string): number[] {
  return [...stdout.matchAll(/^part (\d+)\/12 uploaded/gm)].map((m) => Number(m[1]));
}

async function readCheckpoint(db: string): Promise<UploadCheckpoint> {
  const store = new SqliteStore(db);
  try {
    const state = await new Checkpointer<UploadCheckpoint>(store, `upload:archive/${KEY}`).load();
    if (state === undefined) throw new Error('no checkpoint saved');
    return state;
  } finally {
    await store.close();
  }
}

async function storedObject(endpoint: string): Promise<Buffer> {
  const client = localS3Client(endpoint);
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: 'archive', Key: KEY }));
    return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
  } finally {
    client.destroy();
  }
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('examples/chunk-uploader (e2e: child processes, s3rver, SQLite checkpoint)', () => {
  it('SIGKILL after some parts; the rerun resumes the same upload, sends only the missing parts, and the object equals the file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-uploader-'));
    const source = sourceFile();
    const db = join(dir, 'uploader.db');
    // s3rver runs here, so the test sees every UploadPart request that reaches it.
    s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['archive'] });
    let partRequests: number[] = [];
    s3.httpServer.on('request', (req) => {
      const match = /[?&]partNumber=(\d+)/.exec(req.url ?? '');
      if (req.method === 'PUT' && match) partRequests.push(Number(match[1]));
    });
    const args = [
      '--local',
      '--file',
      source.path,
      '--key',
      KEY,
      '--work',
      dir,
      '--db',
      db,
      '--endpoint',
      s3.endpoint,
      '--part-size',
      String(PART),
      '--part-delay-ms',
      '200',
    ];

    const crashed = await runExample(args, { text: 'part 4/12 uploaded', send: 'SIGKILL' });
    expect(crashed.signal, crashed.stdout + crashed.stderr).toBe('SIGKILL');
    const uploadId = /started upload (\S+):/.exec(crashed.stdout)?.[1];
    expect(uploadId).toBeDefined();
    const saved = await readCheckpoint(db);
    const savedParts = saved.parts.map((p) => p.n);
    expect(saved.uploadId).toBe(uploadId);
    // Every part printed as uploaded was in the checkpoint; the kill came before the end.
    expect(savedParts).toEqual(expect.arrayContaining(uploadedParts(crashed.stdout)));
    expect(savedParts).toEqual(range(1, savedParts.length));
    expect(savedParts.length).toBeGreaterThanOrEqual(4);
    expect(savedParts.length).toBeLessThan(PARTS);

    partRequests = [];
    const resumed = await runExample(args);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(
      `resuming upload ${uploadId}: ${savedParts.length} of 12 parts already uploaded`,
    );
    // Only the parts the checkpoint did not hold were sent, once each (no faults were injected).
    const missing = range(savedParts.length + 1, PARTS);
    expect(partRequests).toEqual(missing);
    expect(uploadedParts(resumed.stdout)).toEqual(missing);
    expect(resumed.stdout).toContain('verified: the stored object equals the file');

    const stored = await storedObject(s3.endpoint);
    expect(stored.length).toBe(source.bytes.length);
    expect(stored.equals(source.bytes)).toBe(true);
    expect((await readCheckpoint(db)).completedEtag).toMatch(/^"[0-9a-f]+-12"$|^"[0-9a-f]+"$/);
  }, 120_000);

  it('SIGTERM midway: the running part finishes, the checkpoint is saved, exit 143; the rerun completes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-uploader-'));
    const source = sourceFile();
    const db = join(dir, 'uploader.db');
    // The example starts s3rver itself, its data under --work; the rerun starts it again on the same data.
    const args = [
      '--local',
      '--file',
      source.path,
      '--key',
      KEY,
      '--work',
      dir,
      '--db',
      db,
      '--part-size',
      String(PART),
      '--part-delay-ms',
      '200',
    ];

    const stopped = await runExample(args, { text: 'part 3/12 uploaded', send: 'SIGTERM' });
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(143);
    const firstRun = uploadedParts(stopped.stdout);
    // The part running when the signal came was finished, not dropped: more than 3 parts are done.
    expect(firstRun.length).toBeGreaterThanOrEqual(4);
    expect(firstRun.length).toBeLessThan(PARTS);
    expect(stopped.stdout).toContain(
      `stopped: ${firstRun.length} of 12 parts uploaded, checkpoint saved; run again to resume`,
    );
    expect(stopped.stdout).not.toContain('interrupted');
    const saved = await readCheckpoint(db);
    expect(saved.parts.map((p) => p.n)).toEqual(firstRun);
    expect(saved.interrupted).toEqual([]);

    const resumed = await runExample(args);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(
      `resuming upload ${saved.uploadId}: ${firstRun.length} of 12 parts already uploaded`,
    );
    expect(uploadedParts(resumed.stdout)).toEqual(range(firstRun.length + 1, PARTS));
    expect(resumed.stdout).toContain('verified: the stored object equals the file');

    // Read it back independently: s3rver again on the example's data directory.
    s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['archive'] });
    expect((await storedObject(s3.endpoint)).equals(source.bytes)).toBe(true);
  }, 120_000);

  it('SIGTERM with no grace: the running part is marked interrupted, then sent again on resume', async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-uploader-'));
    const source = sourceFile();
    const db = join(dir, 'uploader.db');
    const args = [
      '--local',
      '--file',
      source.path,
      '--key',
      KEY,
      '--work',
      dir,
      '--db',
      db,
      '--part-size',
      String(PART),
      '--part-delay-ms',
      '150',
      '--grace-ms',
      '0',
    ];

    const stopped = await runExample(args, { text: 'part 2/12 uploaded', send: 'SIGTERM' });
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(143);
    const firstRun = uploadedParts(stopped.stdout);
    const cut = Number(/part (\d+)\/12 interrupted by shutdown/.exec(stopped.stdout)?.[1]);
    expect(cut).toBe(firstRun.length + 1);
    const saved = await readCheckpoint(db);
    expect(saved.parts.map((p) => p.n)).toEqual(firstRun);
    expect(saved.interrupted).toEqual([cut]);

    const resumed = await runExample(args);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(uploadedParts(resumed.stdout)).toEqual(range(cut, PARTS));
    s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['archive'] });
    expect((await storedObject(s3.endpoint)).equals(source.bytes)).toBe(true);
  }, 120_000);

  it('in process: transient faults are retried; parts that keep failing are recorded in the checkpoint and sent on the next run', async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-uploader-'));
    const bytes = randomBytes(3 * 1000 + 7);
    const file = join(dir, 'small.bin');
    writeFileSync(file, bytes);
    s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['archive'] });
    const client = localS3Client(s3.endpoint);
    const store = new SqliteStore(join(dir, 'uploader.db'));
    try {
      const common = {
        s3: client,
        bucket: 'archive',
        key: KEY,
        file,
        partSize: 1000,
        minPartSize: 1,
        store,
        retryInitialMs: 1,
      };
      // Every attempt fails (an injected connection reset): each part is tried 3 times (the system's), then recorded.
      const logs: string[] = [];
      const failedRun = await uploadFile({
        ...common,
        chaosRate: 1,
        chaosSeed: 1,
        log: (l) => logs.push(l),
      });
      expect(failedRun.status).toBe('failed');
      expect(failedRun.sentParts).toEqual([]);
      expect(failedRun.failed.map((f) => [f.n, f.category, f.attempts])).toEqual([
        [1, 'network', 3],
        [2, 'network', 3],
        [3, 'network', 3],
        [4, 'network', 3],
      ]);
      expect(logs.filter((l) => l.includes('network (ECONNRESET): retry'))).toHaveLength(4 * 2);
      const saved = await new Checkpointer<UploadCheckpoint>(store, `upload:archive/${KEY}`).load();
      expect(saved?.failed.map((f) => f.n)).toEqual([1, 2, 3, 4]);
      expect(saved?.parts).toEqual([]);

      // Half the attempts fail: retries carry every part through; the same upload is resumed.
      const retryLogs: string[] = [];
      const retried = await uploadFile({
        ...common,
        chaosRate: 0.5,
        chaosSeed: 42,
        log: (l) => retryLogs.push(l),
      });
      expect(
        retryLogs.filter((l) => l.includes('network (ECONNRESET): retry')).length,
      ).toBeGreaterThan(0);
      expect(retryLogs).toContain(
        `resuming upload ${failedRun.uploadId}: 0 of 4 parts already uploaded`,
      );
      expect(retried).toMatchObject({
        status: 'completed',
        uploadId: failedRun.uploadId,
        sentParts: [1, 2, 3, 4],
        failed: [],
      });
      expect((await storedObject(s3.endpoint)).equals(bytes)).toBe(true);
      // A third run finds it done and sends nothing.
      expect(await uploadFile(common)).toMatchObject({
        status: 'already_completed',
        sentParts: [],
      });
    } finally {
      client.destroy();
      await store.close();
    }
  }, 60_000);

  it('refuses parts under 5 MiB unless asked (s3rver), and more than 10,000 parts', async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-uploader-'));
    const file = join(dir, 'f.bin');
    writeFileSync(file, randomBytes(10_001));
    const store = new SqliteStore(join(dir, 'uploader.db'));
    try {
      const client = localS3Client('http://127.0.0.1:1');
      const options = { s3: client, bucket: 'b', key: 'k', file, store };
      await expect(uploadFile({ ...options, partSize: 5 * 1024 * 1024 - 1 })).rejects.toThrow(
        /partSize.*at least 5242880 bytes/,
      );
      await expect(uploadFile({ ...options, partSize: 1, minPartSize: 1 })).rejects.toThrow(
        /at most 10000 parts/,
      );
      client.destroy();
    } finally {
      await store.close();
    }
  });

  it('a part that fails for good aborts the multipart upload (the abort retried) and records it in the failed set', async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-uploader-'));
    const file = join(dir, 'f.bin');
    writeFileSync(file, randomBytes(3_500));
    s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['archive'] });
    const real = localS3Client(s3.endpoint);
    const sent: string[] = [];
    let abortCalls = 0;
    // The real client, except that part 3 is refused (AccessDenied); s3rver has no AbortMultipartUpload,
    // so this client answers it as S3 does — after a 503 the first time.
    let abortedUploadId: string | undefined;
    const client = {
      send: (
        command: { constructor: { name: string }; input: { PartNumber?: number } },
        options?: unknown,
      ) => {
        const name = command.constructor.name;
        sent.push(
          name === 'UploadPartCommand'
            ? `UploadPart ${command.input.PartNumber}`
            : name.replace('Command', ''),
        );
        if (name === 'UploadPartCommand' && command.input.PartNumber === 3) {
          return Promise.reject(
            Object.assign(new Error('Access Denied'), {
              name: 'AccessDenied',
              $fault: 'client',
              $metadata: { httpStatusCode: 403 },
            }),
          );
        }
        if (name === 'AbortMultipartUploadCommand') {
          if (++abortCalls === 1) {
            return Promise.reject(
              Object.assign(new Error('Service Unavailable'), {
                name: 'ServiceUnavailable',
                $fault: 'server',
                $metadata: { httpStatusCode: 503 },
              }),
            );
          }
          abortedUploadId = (command.input as { UploadId?: string }).UploadId;
          return Promise.resolve({});
        }
        return real.send(command as never, options as never);
      },
    } as unknown as S3Client;
    const store = new SqliteStore(join(dir, 'uploader.db'));
    try {
      const logs: string[] = [];
      const result = await uploadFile({
        s3: client,
        bucket: 'archive',
        key: KEY,
        file,
        partSize: 1000,
        minPartSize: 1,
        store,
        retryInitialMs: 1,
        log: (l) => logs.push(l),
      });
      expect(result.status).toBe('aborted');
      // Not retried: the refused part was sent once; the abort was retried after its 503.
      expect(sent.filter((c) => c === 'UploadPart 3')).toHaveLength(1);
      expect(sent.filter((c) => c === 'AbortMultipartUpload')).toHaveLength(2);
      expect(logs.filter((l) => l.includes('abort'))).toEqual([
        `aborted upload ${result.uploadId} (permanent: Access Denied); its stored parts are deleted`,
      ]);
      const failed = await failedUploads(store);
      expect(failed).toMatchObject([
        {
          bucket: 'archive',
          key: KEY,
          uploadId: result.uploadId,
          category: 'permanent',
          aborted: true,
        },
      ]);
      expect(abortedUploadId).toBe(result.uploadId);
      // The checkpoint is gone: a rerun starts a new upload.
      expect(
        await new Checkpointer<UploadCheckpoint>(store, `upload:archive/${KEY}`).load(),
      ).toBeUndefined();
    } finally {
      real.destroy();
      await store.close();
    }
  }, 60_000);

  it('resumes from ListParts where the service has it: a part uploaded but not checkpointed is not sent again', async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-uploader-'));
    const bytes = randomBytes(4_000);
    const file = join(dir, 'f.bin');
    writeFileSync(file, bytes);
    s3 = await startLocalS3({ directory: join(dir, 's3'), buckets: ['archive'] });
    const real = localS3Client(s3.endpoint);
    // s3rver has no ListParts: this client keeps what UploadPart acknowledged and answers ListParts from it, as S3 does.
    const stored = new Map<number, { ETag: string; Size: number }>();
    const sentParts: number[] = [];
    const client = {
      send: async (
        command: { constructor: { name: string }; input: { PartNumber?: number; Body?: Buffer } },
        options?: unknown,
      ) => {
        const name = command.constructor.name;
        if (name === 'ListPartsCommand')
          return {
            Parts: [...stored].map(([n, p]) => ({ PartNumber: n, ...p })),
            IsTruncated: false,
          };
        const res = (await real.send(command as never, options as never)) as { ETag?: string };
        if (name === 'UploadPartCommand') {
          sentParts.push(command.input.PartNumber!);
          stored.set(command.input.PartNumber!, {
            ETag: res.ETag!,
            Size: command.input.Body!.length,
          });
        }
        return res;
      },
    } as unknown as S3Client;
    const store = new SqliteStore(join(dir, 'uploader.db'));
    try {
      const stopping = new AbortController();
      const common = {
        s3: client,
        bucket: 'archive',
        key: KEY,
        file,
        partSize: 1000,
        minPartSize: 1,
        store,
        retryInitialMs: 1,
      };
      const first = await uploadFile({
        ...common,
        stopping: stopping.signal,
        log: (l) => l.startsWith('part 2/') && stopping.abort(),
      });
      expect(first).toMatchObject({ status: 'stopped', sentParts: [1, 2] });
      // A crash between UploadPart 3 and its checkpoint: S3 has part 3, the checkpoint does not.
      const res = (await real.send(
        new UploadPartCommand({
          Bucket: 'archive',
          Key: KEY,
          UploadId: first.uploadId,
          PartNumber: 3,
          Body: bytes.subarray(2_000, 3_000),
        }),
      )) as { ETag?: string };
      stored.set(3, { ETag: res.ETag!, Size: 1_000 });
      sentParts.length = 0;
      const logs: string[] = [];
      const second = await uploadFile({ ...common, log: (l) => logs.push(l) });
      expect(second).toMatchObject({ status: 'completed', uploadId: first.uploadId });
      expect(sentParts).toEqual([4]);
      expect(logs).toContain(
        'ListParts: S3 holds 3 part(s); not sending again 3 (uploaded, not yet checkpointed)',
      );
      expect((await storedObject(s3.endpoint)).equals(bytes)).toBe(true);
    } finally {
      real.destroy();
      await store.close();
    }
  }, 60_000);

  it('without --local the client is the SDK default chain: no s3rver credentials, no forced region', async () => {
    const { s3Client } = await import('../../examples/chunk-uploader/s3-client.js');
    const client = s3Client({ endpoint: 'http://127.0.0.1:9000', pathStyle: true });
    try {
      expect(client.config.forcePathStyle).toBe(true);
      // Credentials come from the provider chain (environment, profiles, roles), never S3RVER's.
      const saved = {
        id: process.env.AWS_ACCESS_KEY_ID,
        secret: process.env.AWS_SECRET_ACCESS_KEY,
      };
      process.env.AWS_ACCESS_KEY_ID = 'AKIAFROMENVIRONMENT';
      process.env.AWS_SECRET_ACCESS_KEY = 'from-the-environment';
      try {
        expect((await client.config.credentials()).accessKeyId).toBe('AKIAFROMENVIRONMENT');
      } finally {
        process.env.AWS_ACCESS_KEY_ID = saved.id;
        process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
        if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
        if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      }
    } finally {
      client.destroy();
    }
  });
});
