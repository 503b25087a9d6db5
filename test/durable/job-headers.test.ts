import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_HEADER_ENTRIES, MAX_HEADERS_LENGTH, parseHeaders } from '../../src/durable/headers.js';
import { Queue } from '../../src/durable/queue.js';
import { type JobContext, Worker } from '../../src/durable/worker.js';
import { ConfigError } from '../../src/faults/errors.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { SCHEMA_VERSION, SqliteStore } from '../../src/stores/sqlite/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { tempDir } from './temp-dir.js';

const temp = tempDir('faultline-headers-');
afterAll(() => temp.cleanup());

/** Moves virtual time in steps until `done()` holds. */
async function until(clock: VirtualClock, done: () => boolean, maxMs = 10_000): Promise<void> {
  for (let t = 0; t <= maxMs && !done(); t += 50) await clock.advance(50);
  expect(done()).toBe(true);
}

describe('job headers', () => {
  it('travel from enqueue to the handler, and a job without any reads as empty', async () => {
    const clock = new VirtualClock();
    const queue = new Queue<{ n: number }>(new MemoryStore(), 'jobs', { clock });
    await queue.enqueue({ n: 1 }, { headers: { 'x-tenant': 'acme' } });
    await queue.enqueue({ n: 2 });
    const seen: Record<number, JobContext['headers']> = {};
    const worker = new Worker(
      queue,
      (p, ctx) => {
        seen[p.n] = ctx.headers;
      },
      { clock, keepAlive: false },
    ).start();
    await until(clock, () => worker.summary().processed === 2);
    await worker.stop();
    expect(seen).toEqual({ 1: { 'x-tenant': 'acme' }, 2: {} });
  });

  it('are refused with a ConfigError naming the option when not strings, too many or too large', async () => {
    const queue = new Queue(new MemoryStore(), 'jobs');
    const tooMany = Object.fromEntries(
      Array.from({ length: MAX_HEADER_ENTRIES + 1 }, (_, i) => [`h${i}`, 'v']),
    );
    await expect(queue.enqueue(1, { headers: { a: 1 as unknown as string } })).rejects.toThrow(
      ConfigError,
    );
    await expect(queue.enqueue(1, { headers: { a: 1 as unknown as string } })).rejects.toThrow(
      /enqueue\.headers\.a/,
    );
    await expect(queue.enqueue(1, { headers: tooMany })).rejects.toThrow(/at most 16 headers/);
    await expect(
      queue.enqueue(1, { headers: { big: 'x'.repeat(MAX_HEADERS_LENGTH) } }),
    ).rejects.toThrow(/4096 characters/);
    await expect(queue.enqueue(1, { headers: { 'has space': 'v' } })).rejects.toThrow(/name/);
    await expect(
      queue.enqueue(1, { headers: 'traceparent' as unknown as Record<string, string> }),
    ).rejects.toThrow(ConfigError);
    expect((await queue.stats()).waiting).toBe(0);
  });

  it('stored text that is not a map of strings reads as no headers (stored data is untrusted)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parsed = parseHeaders(text);
        for (const value of Object.values(parsed)) expect(typeof value).toBe('string');
      }),
    );
    expect(parseHeaders('{"a":"1","b":2,"__proto__":"x"}')).toEqual({ a: '1', ['__proto__']: 'x' });
    expect(Object.getPrototypeOf(parseHeaders('{"__proto__":{"polluted":"yes"}}'))).toBe(
      Object.prototype,
    );
    expect(parseHeaders('[1]')).toEqual({});
  });

  it('enqueue interceptors wrap the store write, add headers, and cost nothing once removed', async () => {
    const store = new MemoryStore();
    const queue = new Queue(store, 'jobs');
    const order: string[] = [];
    const offOuter = queue.intercept(async (call, proceed) => {
      order.push(`outer:${call.queue}:${call.headers.length}`);
      for (const h of call.headers) h.traceparent = 'tp';
      const results = await proceed();
      order.push(`outer done:${results.length}`);
      return results;
    });
    queue.intercept(async (call, proceed) => {
      order.push(`inner:${JSON.stringify(call.headers)}`);
      return proceed();
    });
    const [a, b] = await queue.enqueueMany([
      { payload: 1, headers: { user: 'u' } },
      { payload: 2 },
    ]);
    expect(order).toEqual([
      'outer:jobs:2',
      'inner:[{"user":"u","traceparent":"tp"},{"traceparent":"tp"}]',
      'outer done:2',
    ]);
    expect((await store.getJob(a!.id))!.headers).toBe('{"user":"u","traceparent":"tp"}');
    expect((await store.getJob(b!.id))!.headers).toBe('{"traceparent":"tp"}');
    offOuter();
    const [c] = await queue.enqueueMany([{ payload: 3 }]);
    expect((await store.getJob(c!.id))!.headers).toBeUndefined();
  });

  it('an interceptor must be a function', () => {
    const queue = new Queue(new MemoryStore(), 'jobs');
    expect(() => queue.intercept('tracing' as never)).toThrow(ConfigError);
  });

  it('an interceptor that breaks the bounds is refused and nothing is stored', async () => {
    const queue = new Queue(new MemoryStore(), 'jobs');
    queue.intercept((call, proceed) => {
      call.headers[0]!.huge = 'x'.repeat(MAX_HEADERS_LENGTH);
      return proceed();
    });
    await expect(queue.enqueue(1)).rejects.toThrow(ConfigError);
    expect((await queue.stats()).waiting).toBe(0);
  });

  it('run interceptors wrap each run until its outcome is reported', async () => {
    const clock = new VirtualClock();
    const queue = new Queue<number>(new MemoryStore(), 'jobs', { clock });
    await queue.enqueue(7, { headers: { k: 'v' } });
    const log: string[] = [];
    const worker = new Worker(queue, (n) => void log.push(`handler ${n}`), {
      clock,
      keepAlive: false,
    });
    worker.events.on('completed', () => log.push('completed'));
    worker.intercept(async (job, proceed) => {
      log.push(`before ${job.payload} ${job.headers}`);
      await proceed();
      log.push('after');
    });
    worker.start();
    await until(clock, () => log.includes('after'));
    await worker.stop();
    expect(log).toEqual(['before 7 {"k":"v"}', 'handler 7', 'completed', 'after']);
  });

  it('a SQLite store made before headers existed is migrated: old jobs read without headers, new ones keep them', async () => {
    const file = temp.path('v1.db');
    const db = new Database(file);
    // The version 1 schema as it was, with one job in it.
    db.exec(`CREATE TABLE faultline_schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);
      INSERT INTO faultline_schema_version VALUES (1, 0);
      CREATE TABLE faultline_jobs (id INTEGER PRIMARY KEY, queue TEXT NOT NULL, state INTEGER NOT NULL, payload TEXT NOT NULL,
        priority INTEGER NOT NULL, run_at INTEGER NOT NULL, enqueued_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER, strikes INTEGER NOT NULL DEFAULT 0, token TEXT, worker_id TEXT, claimed_at INTEGER, lease_until INTEGER,
        finished_at INTEGER, idempotency_key TEXT, checkpoint TEXT, history TEXT NOT NULL DEFAULT '[]', fault TEXT);
      CREATE INDEX faultline_jobs_claim ON faultline_jobs (queue, priority DESC, run_at, id) WHERE state = 0;
      CREATE INDEX faultline_jobs_lease ON faultline_jobs (queue, lease_until) WHERE state = 1;
      CREATE INDEX faultline_jobs_finished ON faultline_jobs (queue, state, finished_at) WHERE state >= 2;
      CREATE UNIQUE INDEX faultline_jobs_idempotency ON faultline_jobs (queue, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE TABLE faultline_queues (name TEXT PRIMARY KEY, paused_until INTEGER);
      CREATE TABLE faultline_checkpoints (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL);
      INSERT INTO faultline_jobs (queue, state, payload, priority, run_at, enqueued_at) VALUES ('q', 0, '1', 0, 0, 0);`);
    db.close();
    const store = new SqliteStore(file);
    try {
      expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
      const old = await store.getJob('1');
      expect(old).toMatchObject({ payload: '1' });
      expect(old!.headers).toBeUndefined();
      const [fresh] = await store.enqueue(
        [{ queue: 'q', payload: '2', priority: 0, runAt: 0, headers: '{"a":"b"}' }],
        0,
      );
      expect((await store.getJob(fresh!.id))!.headers).toBe('{"a":"b"}');
    } finally {
      await store.close();
    }
  });
});
