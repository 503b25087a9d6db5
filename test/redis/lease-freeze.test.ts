import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import type { ClaimedJob } from '../../src/durable/store.js';
import { Worker } from '../../src/durable/worker.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { systemClock } from '../../src/time/system-clock.js';
import { type OwnRedisServer, startRedisServer } from './redis-server.js';

/**
 * Finding 1 of issue 17, as first seen: two workers in one process, `leaseMs: 1000`, a private
 * redis-server frozen (SIGSTOP) for 2 s. Claims sent before the freeze are answered after it
 * with leases that already ended: none of them may start a handler, and no job may run in
 * both workers at once.
 */

describe('a frozen Redis (SIGSTOP 2 s, lease 1 s)', () => {
  let server: OwnRedisServer | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await server?.stop();
    server = undefined;
  });

  it('starts no handler on an ended lease and never runs one job twice at once', async () => {
    server = await startRedisServer();
    const setup = new RedisStore({ url: server.url, prefix: 'freeze' });
    cleanups.push(() => setup.close());
    const queue = new Queue<{ n: number }>(setup, 'freeze');
    await queue.enqueueMany(Array.from({ length: 2_000 }, (_, n) => ({ payload: { n } })));

    const runs: {
      job: string;
      worker: string;
      start: number;
      end: number;
      leaseEnd: number;
      attempt: number;
    }[] = [];
    const workers = ['a', 'b'].map((name) => {
      const store = new RedisStore({ url: server!.url, prefix: 'freeze' });
      const leaseEnds = new Map<string, number>();
      const claim = store.claim.bind(store);
      store.claim = async (request) => {
        const jobs: ClaimedJob[] = await claim(request);
        for (const job of jobs) leaseEnds.set(`${job.id} ${job.token}`, job.leaseUntil);
        return jobs;
      };
      const worker = new Worker(
        new Queue<{ n: number }>(store, 'freeze'),
        async (_p, ctx) => {
          const run = {
            job: ctx.job.id,
            worker: name,
            start: Date.now(),
            end: Number.POSITIVE_INFINITY,
            leaseEnd: leaseEnds.get(`${ctx.job.id} ${ctx.job.token}`)!,
            attempt: ctx.attempt,
          };
          runs.push(run);
          await systemClock.sleep(5 + Math.random() * 20, ctx.signal).catch(() => undefined);
          run.end = Date.now();
        },
        { leaseMs: 1_000, concurrency: 8, pollMs: 50, workerId: name },
      );
      worker.events.on('error', () => {});
      cleanups.push(() => store.close());
      cleanups.push(() => worker.stop({ deadlineMs: 2_000 }));
      return worker.start();
    });
    // Let them work, then freeze the server for two leases.
    while (runs.length < 200) await systemClock.sleep(20);
    server.freeze();
    await systemClock.sleep(2_000);
    server.thaw();
    for (let i = 0; i < 600 && (await queue.stats()).completed < 2_000; i++)
      await systemClock.sleep(100);
    expect((await queue.stats()).completed).toBe(2_000);

    expect(runs.filter((r) => !(r.start < r.leaseEnd))).toEqual([]);
    const overlaps = runs.filter((a) =>
      runs.some(
        (b) =>
          b !== a &&
          b.job === a.job &&
          b.worker !== a.worker &&
          b.start <= a.start &&
          a.start < b.end,
      ),
    );
    expect(overlaps).toEqual([]);
    expect(runs.filter((r) => r.attempt !== 1)).toEqual([]);
    const summaries = workers.map((w) => w.summary());
    console.log(
      `frozen Redis: ${runs.length} runs, stale claims handed back ${summaries.map((s) => s.staleClaims).join(' + ')}`,
    );
  }, 90_000);
});
