import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { CrawlReport } from '../../src/demo/report.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { TSX } from '../cli/run-cli.js';

const MAIN = fileURLToPath(new URL('../../examples/crawler/main.ts', import.meta.url));
const ITEMS = 300;

/** Runs the example as its README says (through tsx); `killAfter` SIGKILLs it once stdout shows that text. */
function runExample(db: string, killAfter?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, '--items', String(ITEMS), '--db', db, '--timeout-ms', '1000', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (killAfter !== undefined && stdout.includes(killAfter)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('examples/crawler end to end', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('crashes (SIGKILL) midway, resumes from its checkpoint and finishes: every item once, summary by category, one log line per decision', async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-crawler-'));
    const db = join(dir, 'crawler.db');
    const crashed = await runExample(db, 'crawled 100 items');
    expect(crashed.signal).toBe('SIGKILL');

    const resumed = await runExample(db);
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = JSON.parse(resumed.stdout.trim().split('\n').at(-1)!) as CrawlReport;
    expect(report).toMatchObject({ resumed: true, finished: true, items: ITEMS, runs: 1 });
    expect(report.totals.completed + report.totals.dead).toBe(ITEMS);
    expect(report.totals).toMatchObject({ waiting: 0, delayed: 0, running: 0, notEnqueued: 0 });

    // Skipped at once: 404s (permanent) and invalid records (validation), with suggestions.
    const dead = new Map(report.deadLetters.map((d) => [d.category, d]));
    // (Bounds, not equalities: on a very loaded machine an item may time out 5 times before its answer.)
    expect(dead.get('permanent')?.count).toBeGreaterThanOrEqual(1);
    expect(dead.get('permanent')?.count).toBeLessThanOrEqual(Math.floor(ITEMS / 97));
    expect(dead.get('validation')?.count).toBeGreaterThanOrEqual(1);
    expect(dead.get('validation')?.count).toBeLessThanOrEqual(Math.floor(ITEMS / 89));
    expect(dead.get('validation')?.suggestions.length).toBeGreaterThan(0);
    const rows = new Map(report.byCategory.map((row) => [row.category, row]));
    expect(rows.get('network')?.action).toBe('retry');
    expect(rows.get('permanent')).toMatchObject({ action: 'skip' });

    // Decisions were logged by pino, one JSON line each with the fault's category.
    const decisions = resumed.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { decision: string; category?: string });
    expect(decisions.length).toBeGreaterThan(0);
    const faultDecisions = decisions.filter((d) => ['retry', 'pause', 'dead_letter', 'abort', 'give_up'].includes(d.decision));
    expect(faultDecisions.length).toBeGreaterThan(0);
    expect(faultDecisions.filter((d) => typeof d.category !== 'string')).toEqual([]);
    expect(decisions.some((d) => d.decision === 'dead_letter' && d.category === 'permanent')).toBe(true);

    // The store holds each item once, completed or dead (the crash redid at most the jobs in flight).
    const store = new SqliteStore(db);
    try {
      const items = new Set<number>();
      for (let id = 1; id <= ITEMS + 5; id++) {
        const job = await store.getJob(String(id));
        if (job === undefined) continue;
        expect(['completed', 'dead']).toContain(job.state);
        const item = (JSON.parse(job.payload) as { id: number }).id;
        expect(items.has(item)).toBe(false);
        items.add(item);
      }
      expect(items.size).toBe(ITEMS);
    } finally {
      await store.close();
    }
  }, 120_000);
});
