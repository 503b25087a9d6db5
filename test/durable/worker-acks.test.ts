import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'ack-retry-child.ts');

describe('AckBatcher in a process with nothing else to do', () => {
  it('stays alive through a failed write until the retry has written the outcome', async () => {
    // Its retry timer used to be unref'd: the process exited during the outage, outcome unwritten.
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(out).toBe('applied true completed\n');
  }, 30_000);
});
