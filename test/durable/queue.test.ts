import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { JobNotFoundError } from '../../src/durable/errors.js';
import { toJsonText } from '../../src/durable/payload.js';
import { Queue } from '../../src/durable/queue.js';
import { ConfigError } from '../../src/faults/errors.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { tempDir } from './temp-dir.js';

const tmp = tempDir();
const stores: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});
afterAll(() => tmp.cleanup());

function makeQueue<P = unknown>(name = 'q') {
  const clock = new VirtualClock();
  const store = new SqliteStore(
    tmp.path(`${name}-${stores.length}-${Math.random().toString(36).slice(2)}.db`),
  );
  stores.push(store);
  return { clock, store, queue: new Queue<P>(store, name, { clock }) };
}

describe('payload validation', () => {
  it('names the path of the first value that is not JSON', () => {
    expect(() => toJsonText({ a: [1, { b: undefined }] })).toThrow(
      /payload\.a\[1\]\.b cannot be stored: undefined/,
    );
    expect(() => toJsonText({ when: new Date(0) })).toThrow(/payload\.when .*Date/);
    expect(() => toJsonText({ n: Number.NaN })).toThrow(/payload\.n .*NaN/);
    expect(() => toJsonText({ 'odd key': () => 1 })).toThrow(/payload\["odd key"\] .*function/);
    expect(() => toJsonText({ big: 1n })).toThrow(/payload\.big .*bigint/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toJsonText(cyclic)).toThrow(/payload\.self .*circular/);
    expect(() => toJsonText(new Map())).toThrow(TypeError);
    expect(toJsonText({ a: [1, 'x', null, true, { b: 2.5 }] })).toBe(
      '{"a":[1,"x",null,true,{"b":2.5}]}',
    );
    // A shared (not circular) object is fine.
    const shared = { x: 1 };
    expect(toJsonText([shared, shared])).toBe('[{"x":1},{"x":1}]');
  });
});

describe('Queue', () => {
  it('rejects a bad payload with a TypeError naming the path, and stores nothing of the batch', async () => {
    const { queue } = makeQueue();
    await expect(
      queue.enqueueMany([{ payload: { ok: 1 } }, { payload: { ok: () => 2 } }]),
    ).rejects.toThrow(/items\[1\]\.payload\.ok/);
    await expect(queue.enqueue({ deep: { list: [1, undefined] } })).rejects.toBeInstanceOf(
      TypeError,
    );
    expect(await queue.stats()).toMatchObject({ waiting: 0, delayed: 0 });
  });

  it('stores one job per idempotency key, and enqueueMany is one write', async () => {
    const { queue } = makeQueue();
    const first = await queue.enqueue({ url: 'a' }, { idempotencyKey: 'a' });
    const again = await queue.enqueue({ url: 'a2' }, { idempotencyKey: 'a' });
    expect(again).toEqual({ id: first.id, created: false });
    const many = await queue.enqueueMany([
      { payload: { url: 'b' }, idempotencyKey: 'b' },
      { payload: { url: 'a' }, idempotencyKey: 'a' },
    ]);
    expect(many.map((r) => r.created)).toEqual([true, false]);
    expect((await queue.stats()).waiting).toBe(2);
  });

  it('handles priorities, delays and runAt; stats report ages and the pause', async () => {
    const { queue, clock, store } = makeQueue();
    await queue.enqueue({ n: 1 });
    await queue.enqueue({ n: 2 }, { delayMs: 5_000 });
    await queue.enqueue({ n: 3 }, { runAt: new Date(clock.wallTime() + 10_000) });
    await queue.enqueue({ n: 4 }, { priority: 7 });
    await clock.advance(2_000);
    const stats = await queue.stats();
    expect(stats).toMatchObject({
      queue: 'q',
      waiting: 2,
      delayed: 2,
      oldestWaitingAgeMs: 2_000,
      pausedUntil: null,
    });
    const [top] = await store.claim({
      queue: 'q',
      workerId: 'w',
      limit: 1,
      leaseMs: 1_000,
      now: clock.wallTime(),
      maxStrikes: 3,
    });
    expect(JSON.parse(top!.payload)).toEqual({ n: 4 });
    await queue.pause({ forMs: 60_000 });
    expect((await queue.stats()).pausedUntil).toBe(clock.wallTime() + 60_000);
    await queue.resume();
    expect((await queue.stats()).pausedUntil).toBeNull();
    await queue.pause();
    expect((await queue.stats()).pausedUntil).toBe(Number.POSITIVE_INFINITY);
  });

  it('reports health with sizes, and unhealthy with the error when the store is gone', async () => {
    const { queue, store } = makeQueue();
    await queue.enqueue({ n: 1 });
    expect(await queue.health()).toMatchObject({ status: 'healthy', store: 'sqlite', waiting: 1 });
    await store.close();
    const health = await queue.health();
    expect(health.status).toBe('unhealthy');
    expect(String((health as { error: unknown }).error)).toMatch(/closed/);
  });

  it('lists, requeues (dry run, by id, by filter) and purges dead letters; unknown ids are refused', async () => {
    const { queue, clock, store } = makeQueue<{ n: number }>();
    await queue.enqueueMany([1, 2, 3].map((n) => ({ payload: { n } })));
    const claimed = await store.claim({
      queue: 'q',
      workerId: 'w',
      limit: 3,
      leaseMs: 1_000,
      now: clock.wallTime(),
      maxStrikes: 3,
    });
    for (const [i, job] of claimed.entries()) {
      const category = i === 0 ? ('auth' as const) : ('validation' as const);
      const record = {
        attempt: 1,
        workerId: 'w',
        startedAt: clock.wallTime(),
        durationMs: 3,
        outcome: 'dead' as const,
        category,
        message: 'no',
      };
      await store.settle(
        [
          {
            id: job.id,
            token: job.token,
            kind: 'dead',
            fault: { category, message: 'no', suggestions: [] },
            record,
          },
        ],
        clock.wallTime(),
      );
      await clock.advance(60_000);
    }
    const letters = await queue.deadLetters();
    expect(letters.map((l) => l.payload.n)).toEqual([3, 2, 1]);
    expect((await queue.deadLetters({ category: 'auth' })).map((l) => l.payload.n)).toEqual([1]);
    expect((await queue.deadLetters({ olderThanMs: 90_000 })).map((l) => l.payload.n)).toEqual([
      2, 1,
    ]);
    await expect(queue.requeue(['1', 'missing'])).rejects.toBeInstanceOf(JobNotFoundError);
    expect((await queue.stats()).dead).toBe(3);
    expect(await queue.requeue({ category: 'validation' }, { dryRun: true })).toEqual(['3', '2']);
    expect((await queue.stats()).dead).toBe(3);
    expect(await queue.requeue('1')).toEqual(['1']);
    expect(await queue.stats()).toMatchObject({ waiting: 1, dead: 2 });
    expect(await queue.purgeDead({ keepNewest: 1 })).toBe(1);
    expect((await queue.deadLetters()).map((l) => l.payload.n)).toEqual([3]);
  });

  it('applies bounded retention to completed jobs by default and as configured', async () => {
    const { queue } = makeQueue();
    expect(queue.retention.completed.maxCount).toBeLessThan(Number.POSITIVE_INFINITY);
    expect(queue.retention.dead.maxAgeMs).toBeLessThan(Number.POSITIVE_INFINITY);
    const custom = new Queue(new MemoryStore(), 'r', { retention: { completed: { maxCount: 5 } } });
    expect(custom.retention.completed).toEqual({
      maxAgeMs: queue.retention.completed.maxAgeMs,
      maxCount: 5,
    });
  });

  it('refuses bad options where they enter', () => {
    const store = new MemoryStore();
    expect(() => new Queue(store, '')).toThrow(ConfigError);
    expect(() => new Queue({} as never)).toThrow(ConfigError);
    expect(() => new Queue(store, 'q', { retention: { completed: { maxAgeMs: -1 } } })).toThrow(
      /retention\.completed\.maxAgeMs/,
    );
    const queue = new Queue(store, 'q');
    return Promise.all([
      expect(queue.enqueue({}, { delayMs: 1, runAt: 5 })).rejects.toThrow(ConfigError),
      expect(queue.enqueue({}, { priority: 1.5 })).rejects.toThrow(/priority/),
      expect(queue.enqueue({}, { maxAttempts: 0 })).rejects.toThrow(/maxAttempts/),
      expect(queue.enqueue({}, { idempotencyKey: '' })).rejects.toThrow(/idempotencyKey/),
      expect(queue.enqueue({}, { dealy: 5 } as never)).rejects.toThrow(/dealy/),
    ]);
  });
});
