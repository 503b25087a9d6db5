import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import { runCrashHarness, spawnChild } from './crash-harness.js';
import { tempDir } from './temp-dir.js';

const tmp = tempDir('faultline-crash-test-');
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});
afterAll(() => tmp.cleanup());

/** Resolves when the child exits. */
const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

describe('crash safety on SQLite (real processes, SIGKILL)', () => {
  it('3 workers, 5,000 jobs, 25 SIGKILLs: every job completed exactly once, never in two live workers at once', async () => {
    const report = await runCrashHarness({
      jobs: 5_000,
      workers: 3,
      kills: 25,
      deadlineMs: 150_000,
      // Random kills are not a poison job: a job unlucky enough to be running at three of the 25
      // kills must not be dead-lettered as a crash loop here (the poison-job test covers that).
      maxStrikes: 25,
    });
    const sorted = [...report.redeliveryMs].sort((a, b) => a - b);
    console.log(
      `crash harness: ${report.kills} kills, ${report.totalRuns} runs for ${report.jobs} jobs, redelivery median ${sorted[Math.floor(sorted.length / 2)]} ms, ` +
        `max ${sorted.at(-1)} ms, ${report.elapsedMs} ms in all`,
    );
    expect(report.kills).toBeGreaterThanOrEqual(20);
    expect(report.completedInStore).toBe(5_000);
    expect(report.otherStatesInStore).toBe(0);
    expect(report.duplicateCompletions).toEqual([]);
    expect(report.overlaps).toEqual([]);
    expect(report.tooManyRuns).toEqual([]);
    expect(report.totalRuns).toBeGreaterThanOrEqual(5_000);
    expect(report.integrity).toBe('ok');
  }, 180_000);

  it('redelivers the job of a SIGKILLed worker once its lease expires (default settings)', async () => {
    const db = tmp.path('redelivery.db');
    const log = tmp.path('redelivery.log');
    writeFileSync(log, '');
    const store = new SqliteStore(db);
    const queue = new Queue<{ n: number }>(store, 'crash');
    await queue.enqueue({ n: 1 });
    let started!: () => void;
    const firstStart = new Promise<void>((resolve) => {
      started = resolve;
    });
    const victim = spawnChild(
      ['queue', db, log, '1', '600000'],
      (line) => line === 'S' && started(),
    );
    children.add(victim);
    await firstStart;
    victim.kill('SIGKILL');
    await exited(victim);
    const killedAt = Date.now();
    let redeliveredAt = 0;
    const rescuer = new Worker(queue, () => {
      redeliveredAt = Date.now();
    });
    const done = new Promise<void>((resolve) => rescuer.events.on('completed', () => resolve()));
    rescuer.start();
    await done;
    await rescuer.stop();
    const redeliveryMs = redeliveredAt - killedAt;
    console.log(`redelivery after SIGKILL with default settings: ${redeliveryMs} ms`);
    // Lease (4 s by default) plus one poll; generous bound for a loaded machine.
    expect(redeliveryMs).toBeLessThan(15_000);
    const job = await store.getJob('1');
    // A crash costs a strike, not a plan attempt.
    expect(job).toMatchObject({ state: 'completed', attempts: 1 });
    expect(job!.history.map((h) => h.outcome)).toEqual(['lease_lost']);
    await store.close();
  }, 60_000);

  it('resumes from the checkpoint after a kill mid-batch: no item lost, at most everyItems redone', async () => {
    const db = tmp.path('walk.db');
    const log = tmp.path('walk.log');
    writeFileSync(log, '');
    const items = 1_000;
    const everyItems = 10;
    const killAfter = 150 + Math.floor(Math.random() * 500);
    let seen = 0;
    let killed!: () => void;
    const wasKilled = new Promise<void>((resolve) => {
      killed = resolve;
    });
    const first = spawnChild(['checkpoint', db, log, String(items), String(everyItems)], (line) => {
      if (line === 'I' && ++seen === killAfter) {
        first.kill('SIGKILL');
        killed();
      }
    });
    children.add(first);
    await wasKilled;
    await exited(first);
    let resumedFrom = -1;
    const second = spawnChild(
      ['checkpoint', db, log, String(items), String(everyItems)],
      (line) => {
        if (line.startsWith('ready ')) resumedFrom = Number(line.slice(6));
      },
    );
    children.add(second);
    await exited(second);
    expect(second.exitCode).toBe(0);
    const lines = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('I '))
      .map((l) => l.split(' '));
    const processed = lines.map((l) => Number(l[1]));
    const byFirst = lines.filter((l) => Number(l[2]) === first.pid).length;
    const distinct = new Set(processed);
    expect(distinct.size).toBe(items);
    const redone = processed.length - distinct.size;
    expect(redone).toBeLessThanOrEqual(everyItems);
    expect(resumedFrom).toBeGreaterThan(0);
    // The kill landed at some point after the parent saw item `killAfter`; the resumed run
    // starts at or before the first run's last item, at most everyItems back.
    expect(byFirst).toBeGreaterThanOrEqual(killAfter);
    expect(resumedFrom).toBeLessThanOrEqual(byFirst);
    expect(byFirst - resumedFrom).toBeLessThanOrEqual(everyItems);
  }, 60_000);

  it('dead-letters a poison job that kills its worker every time (crash-loop limit), and goes on with the rest', async () => {
    const db = tmp.path('poison.db');
    const log = tmp.path('poison.log');
    writeFileSync(log, '');
    const store = new SqliteStore(db);
    const queue = new Queue<{ n?: number; poison?: boolean }>(store, 'crash');
    const { id: poison } = await queue.enqueue({ poison: true });
    const { id: healthy } = await queue.enqueue({ n: 1 });
    let deaths = 0;
    let finished = false;
    let last: ChildProcess | undefined;
    let finish!: () => void;
    const healthyDone = new Promise<void>((resolve) => {
      finish = resolve;
    });
    // Done when the healthy job completed and the poison job is dead: the crash-loop limit is
    // applied by a later claim, which can come after the healthy job's completion. The child says
    // `idle` after every empty claim, so the store is checked then (no waiting on a timer).
    const checkDone = async (): Promise<void> => {
      const [p, h] = await Promise.all([store.getJob(poison), store.getJob(healthy)]);
      if (p?.state === 'dead' && h?.state === 'completed') finish();
    };
    const start = (): void => {
      const child = spawnChild(
        ['queue', db, log, '1'],
        (line) => {
          if (line === `C ${healthy}` || line === 'idle') void checkDone();
        },
        { LEASE_MS: '300' },
      );
      children.add(child);
      last = child;
      child.once('exit', (_code, signal) => {
        if (signal === 'SIGKILL' && !finished && deaths++ < 6) start();
      });
    };
    start();
    await healthyDone;
    finished = true;
    last!.kill('SIGTERM');
    await exited(last!);
    const letter = (await queue.deadLetters())[0];
    expect(letter).toMatchObject({ id: poison, fault: { category: 'resource' } });
    expect(letter!.fault.message).toMatch(/crash-loop/);
    expect(letter!.history.map((h) => h.outcome)).toEqual([
      'lease_lost',
      'lease_lost',
      'lease_lost',
    ]);
    expect(deaths).toBe(3);
    expect((await store.getJob(healthy))!.state).toBe('completed');
    await store.close();
  }, 90_000);
});
