/**
 * classify() on errors produced by the real thing: fetch against closed ports and misbehaving
 * local servers, better-sqlite3, ioredis (closed port and the shared Redis at 127.0.0.1:6379),
 * and the AWS SDK v3 S3 client against a local S3 server (s3rver).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classify, createClassifier, type Fault } from '../../src/faults/index.js';

/** s3rver ships no types; this is the part of its API the tests use (loaded without a global declaration). */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
}) => S3rverServer;

/** Rejection value of a promise that must reject. */
async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the operation to fail, it succeeded');
}

function thrownSync(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the operation to fail, it succeeded');
}

/** A loopback port nothing listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function expectWellFormed(fault: Fault, error: unknown): void {
  expect(fault.cause).toBe(error);
  expect(fault.message.length).toBeGreaterThan(0);
  expect(fault.suggestions.length).toBeGreaterThan(0);
}

describe('fetch against real local servers', () => {
  let server: http.Server;
  let base: string;
  const seen: http.IncomingMessage[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req);
      const url = new URL(req.url ?? '/', 'http://x');
      switch (url.pathname) {
        case '/destroy':
          req.socket.destroy();
          return;
        case '/reset':
          req.socket.resetAndDestroy();
          return;
        case '/hang':
          server.emit('hung', req);
          return; // never answers
        case '/status': {
          const headers: Record<string, string> = {};
          for (const [key, value] of url.searchParams) if (key !== 'code') headers[key] = value;
          res.writeHead(Number(url.searchParams.get('code')), headers);
          res.end('status body');
          return;
        }
        default:
          res.writeHead(200);
          res.end('ok');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** fetch, and throw the Response itself when it is not ok (a common idiom). */
  async function fetchOrThrow(url: string, init?: RequestInit): Promise<Response> {
    const response = await fetch(url, init);
    if (!response.ok) throw response;
    return response;
  }

  it('a closed loopback port: TypeError fetch failed → cause ECONNREFUSED → network', async () => {
    const port = await closedPort();
    const error = await thrown(fetch(`http://127.0.0.1:${port}/`));
    expect(error).toBeInstanceOf(TypeError);
    const fault = classify(error);
    expect(fault).toMatchObject({ category: 'network', code: 'ECONNREFUSED', retryable: true });
    expect(fault.message).toMatch(/fetch failed: connect ECONNREFUSED/);
    expect(fault.suggestions[0]).toMatch(/Nothing is listening/);
    expectWellFormed(fault, error);
  });

  it('a server that destroys the socket → network', async () => {
    const error = await thrown(fetch(`${base}/destroy`));
    const fault = classify(error);
    expect(fault).toMatchObject({ category: 'network', retryable: true });
    expect(['UND_ERR_SOCKET', 'ECONNRESET']).toContain(fault.code);
    expectWellFormed(fault, error);
  });

  it('a server that resets the connection (RST) → network', async () => {
    const error = await thrown(fetch(`${base}/reset`));
    const fault = classify(error);
    expect(fault).toMatchObject({ category: 'network', retryable: true });
    expect(['UND_ERR_SOCKET', 'ECONNRESET']).toContain(fault.code);
  });

  it('a server that never answers, the caller aborts once it saw the request → cancelled', async () => {
    const controller = new AbortController();
    server.once('hung', () => controller.abort());
    const error = await thrown(fetch(`${base}/hang`, { signal: controller.signal }));
    const fault = classify(error);
    expect(fault).toMatchObject({ category: 'cancelled', retryable: false });
  });

  it('a server that never answers, under AbortSignal.timeout → timeout', async () => {
    const error = await thrown(fetch(`${base}/hang`, { signal: AbortSignal.timeout(20) }));
    expect((error as Error).name).toBe('TimeoutError');
    const fault = classify(error);
    expect(fault).toMatchObject({ category: 'timeout', retryable: true });
  });

  it('429 with Retry-After in seconds, thrown as a Response → rate_limit with retryAfterMs', async () => {
    const error = await thrown(fetchOrThrow(`${base}/status?code=429&retry-after=7`));
    expect(error).toBeInstanceOf(Response);
    const fault = classify(error);
    expect(fault).toMatchObject({
      category: 'rate_limit',
      status: 429,
      retryAfterMs: 7000,
      retryable: true,
    });
    expect(fault.message).toBe('HTTP 429 Too Many Requests');
  });

  it('429 with Retry-After as an HTTP-date → the delay until that date', async () => {
    const now = Date.UTC(2030, 5, 1, 12, 0, 0);
    const at = new Date(now + 120_000).toUTCString();
    const error = await thrown(
      fetchOrThrow(`${base}/status?code=429&retry-after=${encodeURIComponent(at)}`),
    );
    const fault = createClassifier({ wallTime: () => now })(error);
    expect(fault).toMatchObject({ category: 'rate_limit', retryAfterMs: 120_000 });
    // With the real wall clock: a date one minute ahead (HTTP-dates have whole seconds).
    const later = new Date(Date.now() + 60_000).toUTCString();
    const real = classify(
      await thrown(
        fetchOrThrow(`${base}/status?code=429&retry-after=${encodeURIComponent(later)}`),
      ),
    );
    expect(real.retryAfterMs).toBeGreaterThan(30_000);
    expect(real.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('503 with retry-after-ms and x-amz-retry-after headers from the server', async () => {
    const ms = classify(
      await thrown(fetchOrThrow(`${base}/status?code=503&retry-after-ms=1500&retry-after=9`)),
    );
    expect(ms).toMatchObject({ category: 'unavailable', status: 503, retryAfterMs: 1500 });
    const amz = classify(
      await thrown(fetchOrThrow(`${base}/status?code=503&x-amz-retry-after=2500`)),
    );
    expect(amz).toMatchObject({ category: 'unavailable', retryAfterMs: 2500 });
  });

  it('a malformed Retry-After from the server is ignored, not thrown', async () => {
    const fault = classify(
      await thrown(fetchOrThrow(`${base}/status?code=429&retry-after=soon-ish`)),
    );
    expect(fault.category).toBe('rate_limit');
    expect(fault.retryAfterMs).toBeUndefined();
  });

  it.each([
    [401, 'auth'],
    [403, 'permanent'],
    [404, 'permanent'],
    [410, 'permanent'],
    [422, 'validation'],
    [500, 'unavailable'],
    [502, 'unavailable'],
    [503, 'unavailable'],
    [504, 'unavailable'],
    [501, 'permanent'],
  ] as const)('a real %i Response → %s', async (status, category) => {
    const fault = classify(await thrown(fetchOrThrow(`${base}/status?code=${status}`)));
    expect(fault).toMatchObject({ category, status });
  });
});

describe('node:fs', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-classify-fs-'));
    fs.writeFileSync(path.join(dir, 'file.txt'), 'x');
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [
      'ENOENT: reading a missing file',
      () => fs.readFileSync(path.join(dir, 'missing.txt')),
      'ENOENT',
    ],
    ['EISDIR: reading a directory', () => fs.readFileSync(dir), 'EISDIR'],
    [
      'ENOTDIR: a file used as a directory',
      () => fs.readFileSync(path.join(dir, 'file.txt', 'inner')),
      'ENOTDIR',
    ],
    ['EEXIST: creating a directory that exists', () => fs.mkdirSync(dir), 'EEXIST'],
  ] as const)('%s → permanent', (_label, fail, code) => {
    const fault = classify(thrownSync(fail));
    expect(fault).toMatchObject({ category: 'permanent', code, retryable: false });
  });

  it('the promise API too, with advice for ENOENT', async () => {
    const fault = classify(await thrown(fs.promises.readFile(path.join(dir, 'missing.txt'))));
    expect(fault).toMatchObject({ category: 'permanent', code: 'ENOENT' });
    expect(fault.suggestions[0]).toMatch(/does not exist/);
  });
});

describe('better-sqlite3', () => {
  let dir: string;
  const open: Database.Database[] = [];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-classify-sqlite-'));
  });
  afterEach(() => {
    for (const db of open.splice(0)) if (db.open) db.close();
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function database(name: string, options?: Database.Options): Database.Database {
    const db = new Database(path.join(dir, name), options);
    open.push(db);
    return db;
  }

  it('UNIQUE and NOT NULL constraint errors → validation, not retryable', () => {
    const db = database('constraint.db');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)');
    db.prepare('INSERT INTO t (v) VALUES (?)').run('a');
    const unique = thrownSync(() => db.prepare('INSERT INTO t (v) VALUES (?)').run('a'));
    expect(classify(unique)).toMatchObject({
      category: 'validation',
      code: 'SQLITE_CONSTRAINT_UNIQUE',
      retryable: false,
    });
    const notNull = thrownSync(() => db.prepare('INSERT INTO t (v) VALUES (?)').run(null));
    expect(classify(notNull)).toMatchObject({
      category: 'validation',
      code: 'SQLITE_CONSTRAINT_NOTNULL',
    });
  });

  it('SQLITE_BUSY from a second connection while the first holds BEGIN IMMEDIATE → conflict, retryable', () => {
    const first = database('busy.db');
    first.pragma('journal_mode = WAL');
    first.exec('CREATE TABLE t (x)');
    const second = database('busy.db');
    second.pragma('busy_timeout = 0');
    first.exec('BEGIN IMMEDIATE');
    const busy = thrownSync(() => second.exec('BEGIN IMMEDIATE'));
    first.exec('ROLLBACK');
    const fault = classify(busy);
    expect(fault).toMatchObject({ category: 'conflict', code: 'SQLITE_BUSY', retryable: true });
    expect(fault.suggestions[0]).toMatch(/busy_timeout/);
  });

  it('a file that is not a database → SQLITE_NOTADB → resource', () => {
    const file = path.join(dir, 'junk.db');
    fs.writeFileSync(file, 'not a database '.repeat(200));
    const db = database('junk.db');
    const error = thrownSync(() => db.prepare('SELECT * FROM sqlite_master').all());
    expect(classify(error)).toMatchObject({
      category: 'resource',
      code: 'SQLITE_NOTADB',
      retryable: false,
    });
  });

  it('writing through a read-only connection → SQLITE_READONLY → resource, not retryable', () => {
    const rw = database('ro.db');
    rw.exec('CREATE TABLE t (x)');
    const ro = database('ro.db', { readonly: true });
    const error = thrownSync(() => ro.exec('INSERT INTO t VALUES (1)'));
    expect(classify(error)).toMatchObject({
      category: 'resource',
      code: 'SQLITE_READONLY',
      retryable: false,
    });
  });
});

describe('ioredis', () => {
  const clients: Redis[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
  });

  function client(options: RedisOptions): Redis {
    const redis = new Redis(options);
    redis.on('error', () => {}); // connection errors are asserted through the rejected commands
    clients.push(redis);
    return redis;
  }

  it('connect() to a closed port without retries → network', async () => {
    const port = await closedPort();
    const redis = client({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const error = await thrown(redis.connect());
    expect(classify(error)).toMatchObject({ category: 'network', retryable: true });
    const command = await thrown(redis.get('k'));
    expect(classify(command)).toMatchObject({ category: 'network' });
  });

  it('a command that runs out of maxRetriesPerRequest while reconnecting → network', async () => {
    const port = await closedPort();
    const redis = client({
      host: '127.0.0.1',
      port,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 5,
    });
    const error = await thrown(redis.get('k'));
    expect((error as Error).name).toBe('MaxRetriesPerRequestError');
    expect(classify(error)).toMatchObject({
      category: 'network',
      code: 'MaxRetriesPerRequestError',
    });
  });

  it('offline queue disabled and not connected → network', async () => {
    const port = await closedPort();
    const redis = client({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false });
    const error = await thrown(redis.get('k'));
    expect(classify(error)).toMatchObject({ category: 'network' });
  });

  it('the real Redis at 127.0.0.1:6379: WRONGPASS → auth, WRONGTYPE → permanent', async () => {
    const redis = client({
      host: '127.0.0.1',
      port: 6379,
      maxRetriesPerRequest: 1,
      connectTimeout: 10_000,
    });
    // Fails loudly (no skip) when the shared Redis is absent.
    expect(await redis.ping()).toBe('PONG');
    const wrongPass = await thrown(redis.auth(`faultline-no-such-user-${process.pid}`, 'wrong'));
    expect(classify(wrongPass)).toMatchObject({
      category: 'auth',
      code: 'WRONGPASS',
      retryable: false,
    });
    const key = `faultline:test:foundation:${process.pid}:${Date.now()}:wrongtype`;
    try {
      await redis.set(key, '1');
      const wrongType = await thrown(redis.lpush(key, 'x'));
      expect(classify(wrongType)).toMatchObject({ category: 'permanent', code: 'WRONGTYPE' });
    } finally {
      await redis.del(key);
    }
  });
});

describe('AWS SDK v3 S3 client against a local S3 server', () => {
  let dir: string;
  let server: S3rverServer;
  let endpoint: string;
  const clients: S3Client[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-classify-s3-'));
    server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
    const address = await server.run();
    endpoint = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function s3(accessKeyId = 'S3RVER', secretAccessKey = 'S3RVER'): S3Client {
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  }

  it('NoSuchBucket and NoSuchKey → permanent with the HTTP status', async () => {
    const client = s3();
    const noBucket = await thrown(
      client.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })),
    );
    expect(classify(noBucket)).toMatchObject({
      category: 'permanent',
      code: 'NoSuchBucket',
      status: 404,
      source: 'aws',
    });
    await client.send(new CreateBucketCommand({ Bucket: 'bucket-one' }));
    const noKey = await thrown(
      client.send(new GetObjectCommand({ Bucket: 'bucket-one', Key: 'missing' })),
    );
    const fault = classify(noKey);
    expect(fault).toMatchObject({ category: 'permanent', code: 'NoSuchKey', status: 404 });
    expect(fault.suggestions[0]).toMatch(/object does not exist/);
  });

  it('an unknown access key (HTTP 403) → auth, by name rather than status', async () => {
    const error = await thrown(
      s3('NO-SUCH-KEY-ID', 'x').send(new GetObjectCommand({ Bucket: 'bucket-one', Key: 'k' })),
    );
    expect(classify(error)).toMatchObject({
      category: 'auth',
      code: 'InvalidAccessKeyId',
      status: 403,
    });
  });

  it('a closed endpoint port → network (errno under the SDK metadata)', async () => {
    const port = await closedPort();
    const client = new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      maxAttempts: 1,
    });
    clients.push(client);
    const error = await thrown(
      client.send(new GetObjectCommand({ Bucket: 'bucket-one', Key: 'k' })),
    );
    expect(classify(error)).toMatchObject({ category: 'network', code: 'ECONNREFUSED' });
  });
});
