import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DemoProcess } from '../cli/demo-process.js';

/** The value of one series in exposition text (0 when absent: a counter not yet incremented). */
function series(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (.+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return 0;
}

describe('Prometheus metrics of a running demo', () => {
  let dir: string | undefined;
  let demo: DemoProcess | undefined;
  afterEach(() => {
    demo?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('/metrics is served during the run and its series change as jobs complete', async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-metrics-'));
    const args = [
      '--store',
      `sqlite:${join(dir, 'demo.db')}`,
      '--items',
      '2000',
      '--concurrency',
      '4',
      '--latency-ms',
      '20',
      '--metrics-port',
      '0',
      '--no-log',
      '--json',
    ];
    demo = new DemoProcess(args, dir);
    const line = await demo.nextLine((l) => l.startsWith('Metrics: '));
    const url = line.slice('Metrics: '.length).trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    const completed: number[] = [];
    let text = '';
    // One scrape per progress line (a real event from the child), until the counter moved twice.
    for (let i = 0; i < 60 && new Set(completed).size < 3; i++) {
      await demo.nextLine((l) => DemoProcess.done(l) !== undefined);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      text = await response.text();
      completed.push(
        series(text, 'faultline_jobs_total', { queue: 'crawl', outcome: 'completed' }),
      );
    }
    expect(new Set(completed).size).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < completed.length; i++)
      expect(completed[i]!).toBeGreaterThanOrEqual(completed[i - 1]!);
    // Breaker state, queue gauges (cached) and the duration histogram are there too.
    expect(
      series(text, 'faultline_circuit_state', { breaker: 'items-api', state: 'closed' }) +
        series(text, 'faultline_circuit_state', { breaker: 'items-api', state: 'open' }) +
        series(text, 'faultline_circuit_state', { breaker: 'items-api', state: 'halfOpen' }),
    ).toBe(1);
    expect(text).toMatch(/^faultline_queue_jobs\{queue="crawl",state="waiting"\} \d+/m);
    expect(
      series(text, 'faultline_job_duration_seconds_count', {
        queue: 'crawl',
        outcome: 'completed',
      }),
    ).toBeGreaterThan(0);

    demo.child.kill('SIGINT');
    expect((await demo.exited).code).toBe(130);
  }, 120_000);
});
