import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { connectShared, deletePrefix, SHARED_REDIS_URL, uniquePrefix } from './shared-redis.js';

/**
 * Four worker processes on one Redis; one of them is SIGKILLed at a random moment, again and
 * again (and restarted each time). At the end: every job completed, none lost, each completion
 * recorded once, no job ever ran in two workers at once, runs per job <= 1 + kills that hit it.
 */

const WORKERS = 4;
const KILLS = 22;
const BATCH = 1_000;
const LEASE_MS = 1_000;
const CHILD = path.join(import.meta.dirname, 'worker-child.ts');

interface Instance {
  readonly id: number;
  readonly child: ChildProcess;
  starts: number;
  killedAt?: number;
  exited: Promise<void>;
}

interface Run {
  readonly instance: number;
  readonly start: number;
  end?: number;
}

describe('crash harness on Redis (4 worker processes, SIGKILL)', () => {
  const prefix = uniquePrefix('crash');
  const instances: Instance[] = [];
  let store: RedisStore | undefined;
  afterAll(async () => {
    await store?.close();
    for (const instance of instances)
      if (instance.child.exitCode === null && instance.child.signalCode === null)
        instance.child.kill('SIGKILL');
    await Promise.all(instances.map((i) => i.exited));
    const client = await connectShared();
    await deletePrefix(client, prefix);
    client.disconnect();
  });

  it(`loses nothing and never runs a job twice at once across ${KILLS} kills`, async () => {
    store = new RedisStore({ url: SHARED_REDIS_URL, prefix });
    const queue = new Queue<{ n: number }>(store, 'crash-jobs');
    let jobs = 0;
    const enqueueBatch = async () => {
      await queue.enqueueMany(
        Array.from({ length: BATCH }, (_, i) => ({ payload: { n: jobs + i } })),
      );
      jobs += BATCH;
    };
    await enqueueBatch();

    const runs = new Map<string, Run[]>();
    const completions = new Map<string, number>();
    const completedBy = new Map<string, number>();
    let progress: () => void = () => {};
    let nextId = 0;

    const spawnWorker = (): Instance => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
        env: {
          ...process.env,
          REDIS_URL: SHARED_REDIS_URL,
          PREFIX: prefix,
          QUEUE: 'crash-jobs',
          CONCURRENCY: '8',
          LEASE_MS: String(LEASE_MS),
          WORK_MS: '60',
          MAX_STRIKES: '1000',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const instance: Instance = {
        id: nextId++,
        child,
        starts: 0,
        exited: new Promise((resolve) => child.once('exit', () => resolve())),
      };
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        const [kind, jobId, at] = line.split(' ');
        if (kind === 'S') {
          instance.starts++;
          const list = runs.get(jobId!) ?? [];
          list.push({ instance: instance.id, start: Number(at) });
          runs.set(jobId!, list);
        } else if (kind === 'E') {
          const run = runs.get(jobId!)?.findLast((r) => r.instance === instance.id);
          if (run) run.end = Number(at);
        } else if (kind === 'C') {
          completions.set(jobId!, (completions.get(jobId!) ?? 0) + 1);
          completedBy.set(jobId!, instance.id);
        }
        progress();
      });
      instances.push(instance);
      return instance;
    };
    const nextProgress = () => new Promise<void>((resolve) => (progress = resolve));

    const live: Instance[] = Array.from({ length: WORKERS }, spawnWorker);
    let kills = 0;
    while (kills < KILLS) {
      // Kill a random worker after it has started a random number of further jobs: mid-run.
      const slot = Math.floor(Math.random() * WORKERS);
      const victim = live[slot]!;
      const target = victim.starts + 1 + Math.floor(Math.random() * 40);
      // Bounded: should the victim stall, it is killed anyway after a while of others' progress.
      for (let heard = 0; victim.starts < target && heard < 5_000; heard++) {
        // Keep work available until every kill is done: top up when the queue runs low.
        const stats = await queue.stats();
        if (stats.waiting + stats.delayed < BATCH / 4) await enqueueBatch();
        await nextProgress();
      }
      victim.child.kill('SIGKILL');
      await victim.exited;
      victim.killedAt = Date.now();
      kills++;
      live[slot] = spawnWorker();
    }
    expect(kills).toBeGreaterThanOrEqual(20);

    // Let the survivors finish (leases of killed workers expire and their jobs come back).
    for (;;) {
      const { completed, dead } = await queue.stats();
      if (completed + dead >= jobs) break;
      await nextProgress();
    }
    const stats = await queue.stats();
    expect(stats).toMatchObject({ waiting: 0, delayed: 0, running: 0, dead: 0, completed: jobs });

    for (const instance of live) instance.child.kill('SIGTERM');
    await Promise.all(live.map((i) => i.exited));

    // Every job completed in the store, and its completion was recorded exactly once.
    const ids = [...runs.keys()];
    expect(ids).toHaveLength(jobs);
    for (const id of ids) {
      expect((await store.getJob(id))?.state).toBe('completed');
      expect(completions.get(id) ?? 0).toBeLessThanOrEqual(1);
    }
    // Completions reported by killed workers may be lost with them; survivors reported the rest.
    expect(completions.size).toBeGreaterThan(jobs * 0.9);

    // No job in two workers at once; runs per job <= 1 + kills that interrupted it.
    const deathOf = new Map(instances.map((i) => [i.id, i.killedAt ?? Number.POSITIVE_INFINITY]));
    let reruns = 0;
    for (const [id, list] of runs) {
      const sorted = [...list].sort((a, b) => a.start - b.start);
      for (let i = 1; i < sorted.length; i++) {
        const previous = sorted[i - 1]!;
        const previousEnd = previous.end ?? deathOf.get(previous.instance)!;
        if (sorted[i]!.start < previousEnd)
          throw new Error(`job ${id} ran in two workers at once: ${JSON.stringify(sorted)}`);
      }
      // A kill hit a run when its worker died before the completion was recorded (mid-handler,
      // or between the handler's end and the acknowledgement).
      const interrupted = sorted.filter(
        (r) => Number.isFinite(deathOf.get(r.instance)!) && completedBy.get(id) !== r.instance,
      ).length;
      expect(sorted.length).toBeLessThanOrEqual(1 + interrupted);
      reruns += sorted.length - 1;
    }
    expect(reruns).toBeGreaterThan(0);
    console.log(
      `crash harness: ${jobs} jobs, ${kills} SIGKILLs, ${reruns} re-runs after kills, 0 lost`,
    );
  }, 180_000);
});
