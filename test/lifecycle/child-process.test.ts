import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));
const children = new Set<ChildProcess>();

interface Run {
  child: ChildProcess;
  /** Resolves once stdout contains `text`. */
  waitFor(text: string): Promise<void>;
  /** Resolves when the process has exited and every byte of stdout/stderr was read. */
  closed: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    exitedAt: number;
  }>;
}

function start(mode: string, graceMs: number): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode, String(graceMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const w of [...waiters]) {
      if (stdout.includes(w.text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let exitedAt = 0;
  child.on('exit', () => {
    exitedAt = performance.now();
  });
  const closed = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    exitedAt: number;
  }>((resolve) => {
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr, exitedAt });
    });
  });
  const waitFor = (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (stdout.includes(text)) return resolve();
      waiters.push({ text, resolve });
      closed.then((r) =>
        reject(
          new Error(
            `child closed before printing ${JSON.stringify(text)}; stdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
          ),
        ),
      );
    });
  return { child, waitFor, closed };
}

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

describe('lifecycle in a real child process', () => {
  it('SIGTERM during work: tracked work finishes, cleanups run in reverse order, exit 143, no output lost', async () => {
    const run = start('finish', 20_000);
    await run.waitFor('ready');
    run.child.kill('SIGTERM');
    const result = await run.closed;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(143);
    const lines = result.stdout.trim().split('\n');
    const workLines = lines.filter((l) => l.startsWith('line '));
    expect(workLines).toEqual(Array.from({ length: 2_000 }, (_, i) => `line ${i}`));
    const order = lines.filter((l) => l === 'work finished' || l.startsWith('cleanup '));
    expect(order).toEqual([
      'work finished',
      'cleanup http-server',
      'cleanup queue',
      'cleanup database',
    ]);
    expect(lines.at(-1)).toBe('[log] faultline: shutdown complete (SIGTERM), exit code 143');
  });

  it('SIGTERM with work that outlives the grace period: work is aborted, cleanups still run, exit 143', async () => {
    const run = start('hang', 150);
    await run.waitFor('ready');
    run.child.kill('SIGTERM');
    const result = await run.closed;
    expect(result.code).toBe(143);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toContain(
      '[log] faultline: grace period over, aborting 1 tracked task (upload-part-7)',
    );
    const order = lines.filter((l) => l.startsWith('work aborted') || l.startsWith('cleanup '));
    expect(order).toEqual([
      'work aborted: Shutting down (SIGTERM): no new work is accepted',
      'cleanup http-server',
      'cleanup queue',
      'cleanup database',
    ]);
  });

  it('a second SIGINT forces exit at once and prints what was still running', async () => {
    const run = start('stuck', 60_000);
    await run.waitFor('ready');
    run.child.kill('SIGINT');
    await run.waitFor('shutting down (SIGINT)');
    const sentAt = performance.now();
    run.child.kill('SIGINT');
    const result = await run.closed;
    const forcedExitMs = result.exitedAt - sentAt;
    console.log(`second SIGINT → exit in ${forcedExitMs.toFixed(1)} ms`);
    expect(result.code).toBe(130);
    expect(result.stdout).toContain(
      '[log] faultline: forced exit (second SIGINT); still running: work: stuck-transfer',
    );
    expect(result.stdout).not.toContain('cleanup ');
    // The target is 100 ms; the bound is generous because CI runs everything at once on 2 cores.
    expect(forcedExitMs).toBeLessThan(5_000);
  });

  it('an uncaught exception starts a graceful shutdown: work aborted, cleanups run, exit 1', async () => {
    const run = start('crash', 100);
    const result = await run.closed;
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '[log] faultline: uncaught exception: Error: boom in a callback',
    );
    const order = result.stdout
      .split('\n')
      .filter((l) => l.startsWith('work aborted') || l.startsWith('cleanup '));
    expect(order).toEqual([
      'work aborted after crash',
      'cleanup http-server',
      'cleanup queue',
      'cleanup database',
    ]);
  });

  it('an unhandled rejection also shuts down gracefully with exit 1', async () => {
    const run = start('reject', 100);
    const result = await run.closed;
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '[log] faultline: unhandled rejection: Error: nobody caught me',
    );
    expect(result.stdout.split('\n').filter((l) => l.startsWith('cleanup '))).toEqual([
      'cleanup http-server',
      'cleanup queue',
      'cleanup database',
    ]);
  });
});
