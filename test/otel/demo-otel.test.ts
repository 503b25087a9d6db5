import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'faultline-demo-otel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('faultline demo --otel-console', () => {
  it('prints the process spans of runs with a decision, through the SDK console exporter', async () => {
    const result = await runCli(
      [
        'demo',
        '--items',
        '120',
        '--rate-limit-every',
        '50',
        '--no-log',
        '--otel-console',
        '--store',
        `sqlite:${join(dir, 'demo.db')}`,
      ],
      {
        cwd: dir,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('Tracing: the spans of runs');
    expect(result.stdout).toContain("name: 'process crawl'");
    expect(result.stdout).toContain("'messaging.system': 'faultline'");
    expect(result.stdout).toMatch(/name: 'faultline\.(retry|pause)'/);
    // Only runs where something was decided are printed, not every one of the 120 items' runs.
    const printed = result.stdout.split("name: 'process crawl'").length - 1;
    expect(printed).toBeGreaterThan(0);
    expect(printed).toBeLessThan(120);
  });

  it('refuses --json, which needs stdout for the result', async () => {
    const result = await runCli(
      [
        'demo',
        '--items',
        '5',
        '--json',
        '--no-log',
        '--otel-console',
        '--store',
        `sqlite:${join(dir, 'refused.db')}`,
      ],
      { cwd: dir },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--otel-console');
  });
});
