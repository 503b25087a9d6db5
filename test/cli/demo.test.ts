import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import {
  connectShared,
  deletePrefix,
  SHARED_REDIS_URL,
  uniquePrefix,
} from '../redis/shared-redis.js';
import { DemoProcess } from './demo-process.js';

interface DemoSummary {
  items: number;
  resumed: boolean;
  finished: boolean;
  interrupted: boolean;
  runs: number;
  thisRun: { completed: number; deadLettered: number; retried: number; released: number };
  totals: {
    completed: number;
    dead: number;
    waiting: number;
    delayed: number;
    running: number;
    notEnqueued: number;
  };
  byCategory: { category: string; action: string; failures: number; deadLetters: number }[];
  deadLetters: { category: string; count: number; suggestions: string[] }[];
}

const ITEMS = 400;
// Small and slowed down a little (API latency), so Ctrl-C lands midway on any machine.
const ARGS = [
  '--items',
  String(ITEMS),
  '--concurrency',
  '4',
  '--latency-ms',
  '20',
  '--timeout-ms',
  '1000',
  '--json',
  '--no-log',
];

describe('faultline demo as a real child process', () => {
  const dirs: string[] = [];
  const processes: DemoProcess[] = [];
  afterEach(() => {
    for (const p of processes.splice(0)) p.kill();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-demo-'));
    dirs.push(dir);
    return dir;
  };
  const start = (args: string[], cwd: string) => {
    const p = new DemoProcess(args, cwd);
    processes.push(p);
    return p;
  };

  it('SIGINT midway leaves a checkpoint; the second run resumes; counts add up to N, none lost, none completed twice', async () => {
    const dir = tempDir();
    const db = join(dir, 'demo.db');
    const first = start(['--store', `sqlite:${db}`, ...ARGS], dir);
    await first.nextLine((line) => (DemoProcess.done(line) ?? 0) >= 30);
    first.child.kill('SIGINT');
    const firstExit = await first.exited;
    expect(firstExit.code, first.stderr).toBe(130);
    const run1 = JSON.parse(first.stdout) as DemoSummary;
    expect(run1).toMatchObject({
      items: ITEMS,
      resumed: false,
      finished: false,
      interrupted: true,
      runs: 1,
    });
    expect(run1.thisRun.completed).toBeGreaterThan(0);
    expect(first.stderr).toContain('Progress is saved');
    expect(first.stderr).toContain(`Resume with: npx faultline demo --store sqlite:${db}`);

    // Between the runs: the checkpoint is in the store, nothing is left running.
    const between = new SqliteStore(db);
    try {
      const checkpoint = JSON.parse((await between.getCheckpoint('crawl:crawl'))!.value) as {
        runs: number;
        finished: boolean;
        items: number;
        done: number;
      };
      expect(checkpoint).toMatchObject({ runs: 1, finished: false, items: ITEMS });
      const counts = await between.stats('crawl', Date.now());
      expect(counts.running).toBe(0);
      // The checkpoint written at the graceful stop counts exactly what the store holds as finished.
      expect(checkpoint.done).toBe(counts.completed + counts.dead);
      expect(counts.completed).toBe(run1.thisRun.completed);
      expect(counts.completed + counts.dead).toBeLessThan(ITEMS);
    } finally {
      await between.close();
    }

    const second = start(['--store', `sqlite:${db}`, ...ARGS], dir);
    const secondExit = await second.exited;
    expect(secondExit.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('Resuming the crawl from its checkpoint');
    const run2 = JSON.parse(second.stdout) as DemoSummary;
    expect(run2).toMatchObject({ resumed: true, finished: true, interrupted: false, runs: 2 });
    expect(run2.totals).toMatchObject({ waiting: 0, delayed: 0, running: 0, notEnqueued: 0 });
    expect(run2.totals.completed + run2.totals.dead).toBe(ITEMS);
    // Each completion was counted by the run that made it; their sum is what the store holds.
    expect(run1.thisRun.completed + run2.thisRun.completed).toBe(run2.totals.completed);
    expect(run1.thisRun.deadLettered + run2.thisRun.deadLettered).toBe(run2.totals.dead);
    // The fault schedule was met: skipped and exhausted items are dead letters with suggestions.
    const dead = new Map(run2.deadLetters.map((d) => [d.category, d]));
    // (Bounds, not equalities: on a very loaded machine an item may time out 5 times before its 404.)
    expect(dead.get('permanent')?.count).toBeGreaterThanOrEqual(1);
    expect(dead.get('permanent')?.count).toBeLessThanOrEqual(Math.floor(ITEMS / 97));
    expect(dead.get('validation')?.suggestions.length).toBeGreaterThan(0);

    // Every item is in the store exactly once, completed or dead.
    const store = new SqliteStore(db);
    try {
      const seen = new Map<number, string>();
      for (let id = 1; id <= ITEMS + 5; id++) {
        const job = await store.getJob(String(id));
        if (job === undefined) continue;
        const item = (JSON.parse(job.payload) as { id: number }).id;
        expect(seen.has(item), `item ${item} stored twice`).toBe(false);
        seen.set(item, job.state);
      }
      expect(seen.size).toBe(ITEMS);
      expect([...seen.values()].every((state) => state === 'completed' || state === 'dead')).toBe(
        true,
      );
      const checkpoint = JSON.parse((await store.getCheckpoint('crawl:crawl'))!.value) as {
        runs: number;
        finished: boolean;
      };
      expect(checkpoint).toMatchObject({ runs: 2, finished: true });
    } finally {
      await store.close();
    }
  }, 120_000);

  it('on Redis, a credential-expiry episode makes the plan abort (exit 1); the next run resumes and finishes', async () => {
    const dir = tempDir();
    const prefix = uniquePrefix('demo');
    const redis = await connectShared();
    try {
      const args = [
        '--store',
        SHARED_REDIS_URL,
        '--redis-prefix',
        prefix,
        '--items',
        '150',
        '--concurrency',
        '4',
        '--timeout-ms',
        '1000',
        '--json',
        '--no-log',
      ];
      const first = start([...args, '--credential-expiry'], dir);
      const firstExit = await first.exited;
      expect(firstExit.code, first.stderr).toBe(1);
      const run1 = JSON.parse(first.stdout) as DemoSummary & {
        aborted: { category: string; suggestions: string[] } | null;
      };
      expect(run1.aborted?.category).toBe('auth');
      expect(run1.aborted?.suggestions.length).toBeGreaterThan(0);
      expect(run1.finished).toBe(false);
      expect(run1.totals.running).toBe(0);
      expect(first.stderr).toContain(
        `Resume with: npx faultline demo --store ${SHARED_REDIS_URL} --redis-prefix ${prefix}`,
      );

      const second = start(args, dir);
      const secondExit = await second.exited;
      expect(secondExit.code, second.stderr).toBe(0);
      const run2 = JSON.parse(second.stdout) as DemoSummary;
      expect(run2).toMatchObject({ resumed: true, finished: true, runs: 2 });
      expect(run2.totals.completed + run2.totals.dead).toBe(150);
      expect(run1.thisRun.completed + run2.thisRun.completed).toBe(run2.totals.completed);
      // The items the abort handed back were not charged: none of them is an auth dead letter.
      expect(run2.deadLetters.map((d) => d.category)).not.toContain('auth');
    } finally {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    }
  }, 120_000);
});
