import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { type OwnRedisServer, startRedisServer } from './redis-server.js';

/**
 * Faults of the Redis server itself, on a private redis-server (AOF, fsync always):
 * a restart in the middle of a run, and a 10 s hang (SIGSTOP) — the one real-time wait here.
 */

const PREFIX = 'faults';

describe('Redis store under real server faults', () => {
  let server: OwnRedisServer | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    await server?.stop();
    server = undefined;
  });

  const openStore = (commandTimeoutMs: number) => {
    const store = new RedisStore({
      url: server!.url,
      prefix: PREFIX,
      connection: { commandTimeoutMs },
    });
    cleanups.push(() => store.close());
    return store;
  };

  const whenCompleted = (
    workers: readonly { readonly events: Worker['events'] }[],
    count: number,
  ) =>
    new Promise<void>((resolve) => {
      let seen = 0;
      for (const worker of workers) {
        worker.events.on('completed', () => {
          if (++seen === count) resolve();
        });
      }
    });

  it('restart mid-run (SIGKILL, AOF): workers reconnect and finish, 0 lost', async () => {
    server = await startRedisServer();
    const setup = openStore(2_000);
    const queue = new Queue<{ n: number }>(setup, 'restart');
    const ids = (
      await queue.enqueueMany(Array.from({ length: 3_000 }, (_, n) => ({ payload: { n } })))
    ).map((r) => r.id);

    let reconnects = 0;
    const workers = [0, 1].map((w) => {
      const store = openStore(2_000);
      store.client.on('reconnecting', () => reconnects++);
      const worker = new Worker(
        new Queue<{ n: number }>(store, 'restart'),
        () => new Promise<void>((resolve) => setImmediate(resolve)),
        {
          concurrency: 10,
          leaseMs: 1_500,
          pollMs: 50,
          workerId: `w${w}`,
        },
      );
      cleanups.push(() => worker.stop({ deadlineMs: 1_000 }));
      return worker;
    });
    let completedAfterRestart = 0;
    let restarted = false;
    for (const worker of workers)
      worker.events.on('completed', () => restarted && completedAfterRestart++);
    const midRun = whenCompleted(workers, 500);
    for (const worker of workers) worker.start();

    await midRun;
    const pidBefore = server.pid();
    await server.restart('SIGKILL');
    restarted = true;
    expect(server.pid()).not.toBe(pidBefore);
    await Promise.all(workers.map((worker) => worker.drained()));

    const stats = await queue.stats();
    expect(stats).toMatchObject({ waiting: 0, delayed: 0, running: 0, dead: 0, completed: 3_000 });
    for (const id of ids) expect((await setup.getJob(id))?.state).toBe('completed');
    // Both connections dropped and came back, and the work went on after the restart.
    expect(reconnects).toBeGreaterThanOrEqual(2);
    expect(completedAfterRestart).toBeGreaterThan(0);
  }, 60_000);

  it('hang (SIGSTOP 10 s): calls time out, stop() meets its deadline while frozen, 0 lost', async () => {
    server = await startRedisServer();
    const setup = openStore(1_000);
    const queue = new Queue<{ n: number }>(setup, 'hang');
    const ids = (
      await queue.enqueueMany(Array.from({ length: 2_000 }, (_, n) => ({ payload: { n } })))
    ).map((r) => r.id);

    const store = openStore(1_000);
    const worker = new Worker(
      new Queue<{ n: number }>(store, 'hang'),
      () => new Promise<void>((resolve) => setTimeout(resolve, 2)),
      {
        concurrency: 10,
        leaseMs: 2_000,
        pollMs: 50,
      },
    );
    const errors: unknown[] = [];
    const firstError = new Promise<void>((resolve) =>
      worker.events.on('error', (e) => {
        errors.push(e.error);
        resolve();
      }),
    );
    const midRun = whenCompleted([worker], 300);
    worker.start();
    await midRun;

    const frozenAt = Date.now();
    server.freeze();
    // The fault itself lasts 10 s of real time; everything below happens while it lasts.
    const thawed = new Promise<void>((resolve) =>
      setTimeout(() => {
        server!.thaw();
        resolve();
      }, 10_000),
    );

    // No call waits forever: a ping gives up after the command timeout.
    const pingStarted = Date.now();
    await expect(store.ping()).rejects.toThrow(/timed out/i);
    expect(Date.now() - pingStarted).toBeLessThan(5_000);
    // The worker's own calls time out too, and it keeps going.
    await firstError;

    const stopStarted = Date.now();
    const summary = await worker.stop({ deadlineMs: 2_000 });
    const stopMs = Date.now() - stopStarted;
    // Deadline 2 s (+1 s the worker allows for writing outcomes, + slack for a loaded machine).
    expect(stopMs).toBeLessThan(6_000);
    expect(Date.now() - frozenAt).toBeLessThan(10_000);
    expect(summary.processed).toBeGreaterThanOrEqual(300);

    await thawed;
    // A fresh worker after the hang finishes everything: leases of the stopped worker expire.
    const after = new Worker(new Queue<{ n: number }>(openStore(1_000), 'hang'), () => undefined, {
      concurrency: 20,
      leaseMs: 2_000,
      pollMs: 50,
    });
    cleanups.push(() => after.stop({ deadlineMs: 1_000 }));
    after.start();
    await after.drained();
    expect(await queue.stats()).toMatchObject({
      waiting: 0,
      delayed: 0,
      running: 0,
      dead: 0,
      completed: 2_000,
    });
    for (const id of ids) expect((await setup.getJob(id))?.state).toBe('completed');
    expect(errors.length).toBeGreaterThan(0);
  }, 60_000);
});
