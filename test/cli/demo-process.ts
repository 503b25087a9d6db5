import { type ChildProcess, spawn } from 'node:child_process';
import { CLI, TSX } from './run-cli.js';

/** A `faultline demo` child process whose stderr lines can be awaited one event at a time. */
export class DemoProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = '';
  private readonly waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] =
    [];

  constructor(args: readonly string[], cwd: string) {
    this.child = spawn(process.execPath, ['--import', TSX, CLI, 'demo', ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FAULTLINE_STORE: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      this.stderr += text;
      const lines = (this.partial + text).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) this.onLine(line);
    });
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Resolves with the first stderr line (from now on) that passes `test`; rejects if the process exits first. */
  nextLine(test: (line: string) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ test, resolve });
      void this.exited.then(() =>
        reject(new Error(`the demo exited before the awaited line; stderr:\n${this.stderr}`)),
      );
    });
  }

  /** `done=` of a progress line, or undefined for other lines. */
  static done(line: string): number | undefined {
    const match = /^progress done=(\d+) /.exec(line);
    return match ? Number(match[1]) : undefined;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private onLine(line: string): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.test(line)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  }
}
