import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { CrawlCheckpoint } from '../../src/demo/crawler.js';
import type { CrawlReport } from '../../src/demo/report.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { TSX } from '../cli/run-cli.js';
import {
  connectShared,
  deletePrefix,
  SHARED_REDIS_URL,
  uniquePrefix,
} from '../redis/shared-redis.js';

const MAIN = fileURLToPath(new URL('../../examples/crawler/main.ts', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the example as its README says (through tsx); `killAfter` SIGKILLs it once stdout shows that text. */
function runExample(
  args: string[],
  options: { killAfter?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.killAfter !== undefined && stdout.includes(options.killAfter))
        child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const reportOf = (run: Run) => JSON.parse(run.stdout.trim().split('\n').at(-1)!) as CrawlReport;
interface Line {
  decision: string;
  category?: string;
  jobId?: string;
  attempt?: number;
  delayMs?: number;
  to?: string;
  msg: string;
}
const logOf = (run: Run) =>
  run.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);

async function checkpointIn(db: string): Promise<CrawlCheckpoint> {
  const store = new SqliteStore(db);
  try {
    return JSON.parse((await store.getCheckpoint('crawl:crawl'))!.value) as CrawlCheckpoint;
  } finally {
    await store.close();
  }
}

describe('examples/crawler end to end', () => {
  let dir: string | undefined;
  const temp = () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-crawler-'));
    return dir;
  };
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the default run (500 items) shows every path but the aborts: skips, network retries at 10 ms (1 s × 0.01), the 503 burst opening the circuit, the 429 pausing until x-rate-limit-reset', async () => {
    const db = join(temp(), 'crawler.db');
    const run = await runExample(['--db', db, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = reportOf(run);
    expect(report).toMatchObject({ finished: true, aborted: null, items: 500 });
    expect(report.totals.completed + report.totals.dead).toBe(500);
    const log = logOf(run);
    // Network: the first retry waits exactly 1 s × time scale, no jitter.
    const networkRetries = log.filter((l) => l.decision === 'retry' && l.category === 'network');
    expect(networkRetries.length).toBeGreaterThan(0);
    for (const l of networkRetries.filter((x) => x.attempt === 1)) expect(l.delayMs).toBe(10);
    // The 429s pause the whole queue until the reset the API announced: 1-2 s, never scaled down.
    const pauses = log.filter((l) => l.decision === 'pause');
    expect(pauses.length).toBeGreaterThanOrEqual(2);
    for (const p of pauses) {
      expect(p.category).toBe('rate_limit');
      expect(p.delayMs!).toBeGreaterThan(1_000);
      expect(p.delayMs!).toBeLessThanOrEqual(2_000);
    }
    expect(report.thisRun.pauses).toBe(pauses.length);
    // The 503 burst opened the circuit (and it closed again).
    expect(log.some((l) => l.decision === 'circuit' && l.to === 'open')).toBe(true);
    // Skips: 404s and invalid records, dead-lettered at once, never retried.
    const dead = new Map(report.deadLetters.map((d) => [d.category, d.count]));
    expect(dead.get('permanent')).toBe(Math.floor(500 / 97));
    expect(dead.get('validation')).toBe(Math.floor(500 / 89));
    // The human-readable lines show the paths too.
    const human = await runExample([
      '--db',
      join(dir!, 'second.db'),
      '--items',
      '250',
      '--rate-limit-header',
      'none',
      '--time-scale',
      '0.001',
    ]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(
      'rate limited without a reset time: pausing the queue 900 ms (15 min × time scale; checkpoint saved)',
    );
    expect(human.stdout).toContain('Exit code 0: the crawl finished.');
  }, 180_000);

  it('an outage: network retries wait 1, 2, 4, 8, 16 s (scaled), then the crawl aborts with the checkpoint saved (exit 1); the rerun resumes and redoes the released items', async () => {
    const db = join(temp(), 'crawler.db');
    const first = await runExample(['--db', db, '--items', '300', '--outage-at', '150', '--json']);
    expect(first.code, first.stderr).toBe(1);
    const report = reportOf(first);
    expect(report.aborted?.category).toBe('network');
    expect(report.aborted?.reason).toMatch(/gave up after 6 attempts \(limit 6\); stopping/);
    expect(report.finished).toBe(false);
    // The job that ran out: 5 retries with exactly the doubling waits, then the abort at attempt 6.
    const log = logOf(first);
    const abort = log.find((l) => l.decision === 'abort')!;
    expect(abort).toMatchObject({ category: 'network', attempt: 6 });
    // The abort line names no job; the job that ran out is the one whose fifth retry was logged.
    const jobId = log.find(
      (l) => l.decision === 'retry' && l.category === 'network' && l.attempt === 5,
    )!.jobId;
    const retries = log.filter((l) => l.decision === 'retry' && l.jobId === jobId);
    expect(retries.map((l) => [l.attempt, l.delayMs])).toEqual([
      [1, 10],
      [2, 20],
      [3, 40],
      [4, 80],
      [5, 160],
    ]);
    // No network dead letters: an outage stops the crawl instead of failing every item in turn.
    expect(report.deadLetters.map((d) => d.category)).not.toContain('network');
    // Saved: the checkpoint written at the abort counts what the store holds as finished.
    const saved = await checkpointIn(db);
    expect(saved).toMatchObject({ runs: 1, finished: false, items: 300 });
    expect(saved.done).toBe(report.totals.completed + report.totals.dead);

    // Jobs retried during the outage keep the attempts they spent (the queue is durable), so a slow
    // first answer of a fresh process must not cost them their last one: a generous deadline.
    const second = await runExample([
      '--db',
      db,
      '--items',
      '300',
      '--timeout-ms',
      '5000',
      '--json',
    ]);
    expect(second.code, second.stderr).toBe(0);
    const resumed = reportOf(second);
    expect(resumed).toMatchObject({ resumed: true, finished: true, runs: 2 });
    expect(resumed.totals.completed + resumed.totals.dead).toBe(300);
    // The resume redid only what was not finished: this run completed exactly the rest.
    expect(resumed.thisRun.completed).toBe(resumed.totals.completed - report.totals.completed);
    // The aborted job was released with its attempt refunded, so it completed on the rerun.
    const store = new SqliteStore(db);
    try {
      expect((await store.getJob(jobId!))?.state).toBe('completed');
    } finally {
      await store.close();
    }
  }, 180_000);

  it('bad credentials abort at once (exit 1); unlike the system, the checkpoint is saved at the abort (progress was made before the token expired)', async () => {
    const db = join(temp(), 'crawler.db');
    const run = await runExample([
      '--db',
      db,
      '--items',
      '300',
      '--credentials-expire-at',
      '120',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(1);
    const report = reportOf(run);
    expect(report.aborted?.category).toBe('auth');
    const log = logOf(run);
    // Not retried: the first 401 aborts.
    expect(log.filter((l) => l.category === 'auth' && l.decision === 'retry')).toEqual([]);
    expect(report.totals.completed).toBeGreaterThan(0);
    const saved = await checkpointIn(db);
    expect(saved).toMatchObject({ runs: 1, finished: false });
    expect(saved.done).toBe(report.totals.completed + report.totals.dead);
  }, 120_000);

  it('crashes (SIGKILL) midway, resumes from its checkpoint and finishes: every item once', async () => {
    const db = join(temp(), 'crawler.db');
    const crashed = await runExample(['--db', db, '--items', '300', '--json'], {
      killAfter: 'crawled 100 items',
    });
    expect(crashed.signal).toBe('SIGKILL');
    const resumed = await runExample(['--db', db, '--items', '300', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = reportOf(resumed);
    expect(report).toMatchObject({ resumed: true, finished: true, items: 300, runs: 1 });
    expect(report.totals).toMatchObject({ waiting: 0, delayed: 0, running: 0, notEnqueued: 0 });
    const store = new SqliteStore(db);
    try {
      const items = new Set<number>();
      for (let id = 1; id <= 305; id++) {
        const job = await store.getJob(String(id));
        if (job === undefined) continue;
        expect(['completed', 'dead']).toContain(job.state);
        const item = (JSON.parse(job.payload) as { id: number }).id;
        expect(items.has(item)).toBe(false);
        items.add(item);
      }
      expect(items.size).toBe(300);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('VALKEY_URL puts the queue on Valkey/Redis; MAX_RETRIES and INITIAL_BACKOFF set the network schedule', async () => {
    const prefix = uniquePrefix('crawler');
    const redis = await connectShared();
    try {
      const run = await runExample(
        ['--items', '200', '--outage-at', '60', '--prefix', prefix, '--json'],
        {
          env: {
            VALKEY_URL: SHARED_REDIS_URL,
            VALKEY_MAX_CONNECTIONS: '2',
            MAX_RETRIES: '2',
            INITIAL_BACKOFF: '0.5',
          },
        },
      );
      expect(run.code, run.stderr).toBe(1);
      const log = logOf(run);
      const abort = log.find((l) => l.decision === 'abort')!;
      expect(abort).toMatchObject({ category: 'network', attempt: 3 });
      const jobId = log.find(
        (l) => l.decision === 'retry' && l.category === 'network' && l.attempt === 2,
      )!.jobId;
      const waits = log
        .filter((l) => l.decision === 'retry' && l.jobId === jobId)
        .map((l) => l.delayMs);
      expect(waits).toEqual([5, 10]);
      expect((await redis.keys(`*${prefix}*`)).length).toBeGreaterThan(0);
    } finally {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    }
  }, 120_000);
});
