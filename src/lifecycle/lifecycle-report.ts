import { writeSync } from 'node:fs';

/** What a lifecycle reports: one cleanup hook's outcome, the whole shutdown, and its events. */

export interface CleanupReport {
  readonly name: string;
  readonly ok: boolean;
  readonly timedOut: boolean;
  readonly durationMs: number;
  readonly error?: unknown;
}

export interface ShutdownReport {
  readonly reason: string;
  /** The signal that started it, if one did. */
  readonly signal?: NodeJS.Signals;
  readonly exitCode: number;
  /** True when a second signal or the deadline cut the shutdown short. */
  readonly forced: boolean;
  /** Names of tracked work still running when the grace period ended (they were aborted). */
  readonly aborted: readonly string[];
  readonly cleanups: readonly CleanupReport[];
  readonly durationMs: number;
}

export interface LifecycleEvents {
  shutdown: {
    readonly reason: string;
    readonly signal?: NodeJS.Signals;
    readonly running: readonly string[];
  };
  graceExpired: { readonly running: readonly string[] };
  cleanup: CleanupReport;
  exit: ShutdownReport;
}

/** Resolves once stdout and stderr have written what they buffered. */
export function flushStdio(): Promise<void> {
  const flush = (stream: NodeJS.WriteStream) =>
    new Promise<void>((resolve) =>
      stream.writableLength === 0 ? resolve() : stream.write('', () => resolve()),
    );
  return Promise.all([flush(process.stdout), flush(process.stderr)]).then(() => undefined);
}

export function writeStderr(line: string): void {
  try {
    writeSync(2, `${line}\n`);
  } catch {
    // stderr closed: nothing sensible left to do with a log line.
  }
}

export function describeTasks(names: readonly string[]): string {
  if (names.length === 0) return 'no tracked work';
  const shown = names.slice(0, 10).join(', ');
  return `${names.length} tracked task${names.length === 1 ? '' : 's'} (${shown}${names.length > 10 ? ', ...' : ''})`;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
