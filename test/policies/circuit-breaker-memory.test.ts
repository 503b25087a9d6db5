import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('circuitBreaker: memory', () => {
  it('an idle consecutive-failure breaker takes at most 400 bytes of heap (10,000 instances, after gc)', async () => {
    const fixture = fileURLToPath(new URL('./circuit-breaker-heap.fixture.ts', import.meta.url));
    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', fixture], {
      timeout: 110_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      bytesPerBreaker: number;
      kept: number;
    };
    expect(result.kept).toBe(10_000);
    expect(result.bytesPerBreaker).toBeGreaterThan(0);
    expect(result.bytesPerBreaker).toBeLessThanOrEqual(400);
  }, 120_000); // a child process on a loaded machine
});
