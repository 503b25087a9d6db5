import { scoped } from '../validate/scoped.js';
import { FaultlineError } from '../faults/errors.js';
import { Events } from '../observe/events.js';
import {
  type CleanupReport,
  describeTasks,
  errorText,
  flushStdio,
  type LifecycleEvents,
  type ShutdownReport,
} from './lifecycle-report.js';
import {
  type LifecycleOptions,
  type ResolvedLifecycleOptions,
  resolveLifecycleOptions,
} from './lifecycle-options.js';
import { EXIT_CLEAN, EXIT_FAILURE, exitCodeForSignal } from './exit-codes.js';

/** Every option error names the option from `lifecycle`. */
const check = scoped('lifecycle');

export type { LifecycleOptions } from './lifecycle-options.js';
export type { CleanupReport, LifecycleEvents, ShutdownReport } from './lifecycle-report.js';

export type LifecycleState = 'running' | 'draining' | 'cleaning' | 'stopped';

export interface CleanupOptions {
  /**
   * Bound of this hook.
   * @defaultValue the lifecycle's cleanupTimeoutMs
   */
  readonly timeoutMs?: number;
}

/** New work was offered after shutdown started. */
export class ShutdownInProgressError extends FaultlineError {
  readonly category = 'cancelled' as const;
  readonly retryable = false;
  constructor(readonly reason: string) {
    super(`Shutting down (${reason}): no new work is accepted`);
  }
}

interface Hook {
  readonly name: string;
  readonly run: (signal: AbortSignal) => unknown;
  readonly timeoutMs: number;
}

/** Longest wait for stdout/stderr to drain before exiting. */
const FLUSH_LIMIT_MS = 2_000;

/**
 * Coordinates a graceful shutdown. First signal (or `shutdown()`): `stopping` aborts so intake
 * stops; tracked work gets `graceMs` to finish, then `signal` aborts it; cleanup hooks run in
 * reverse order of registration, each bounded; then the process exits with 0, 130 (SIGINT),
 * 143 (SIGTERM) or 1 (a cleanup failed). A second signal exits at once, naming what still ran.
 */
export class Lifecycle {
  readonly events = new Events<LifecycleEvents>();
  /** Aborts when tracked work must stop: the grace period is over (or shutdown is complete). */
  readonly signal: AbortSignal;
  /** Aborts as soon as shutdown starts: stop taking new work. */
  readonly stopping: AbortSignal;
  /** Settles with the report when shutdown is over (in library mode; with `exit: true` the process ends). */
  readonly done: Promise<ShutdownReport>;

  private readonly options: ResolvedLifecycleOptions;
  private readonly workController = new AbortController();
  private readonly stoppingController = new AbortController();
  private readonly tracked = new Map<number, string>();
  private readonly settledWaiters = new Set<() => void>();
  private readonly hooks: Hook[] = [];
  private readonly listeners: [string, (value: unknown) => void][] = [];
  private nextTaskId = 1;
  private currentState: LifecycleState = 'running';
  private runningHook: string | undefined;
  private resolveDone!: (report: ShutdownReport) => void;
  private shutdownPromise: Promise<ShutdownReport> | undefined;
  private finalReport: ShutdownReport | undefined;

  constructor(options: LifecycleOptions = {}) {
    this.options = resolveLifecycleOptions(options);
    this.signal = this.workController.signal;
    this.stopping = this.stoppingController.signal;
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    for (const name of this.options.signals) this.listen(name, () => this.onSignal(name));
    if (this.options.handleUncaught) {
      this.listen('uncaughtException', (error: unknown) =>
        this.onCrash('uncaught exception', error),
      );
      this.listen('unhandledRejection', (error: unknown) =>
        this.onCrash('unhandled rejection', error),
      );
    }
  }

  get state(): LifecycleState {
    return this.currentState;
  }

  /** Names of tracked work still running. */
  running(): string[] {
    return [...this.tracked.values()];
  }

  /**
   * Tracks running work so shutdown waits for it. Pass a promise, or a function that receives
   * the lifecycle's `signal` (refused with ShutdownInProgressError once shutdown has started).
   */
  track<T>(
    work: PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T> | T),
    name?: string,
  ): Promise<T> {
    if (name !== undefined && typeof name !== 'string')
      throw check.configError('name', name, 'a string');
    let promise: Promise<T>;
    if (typeof work === 'function') {
      if (this.stopping.aborted)
        return Promise.reject(new ShutdownInProgressError(String(this.stopping.reason)));
      try {
        promise = Promise.resolve(work(this.signal));
      } catch (error) {
        return Promise.reject(error);
      }
    } else if (work !== null && typeof work === 'object' && typeof work.then === 'function') {
      promise = Promise.resolve(work);
    } else {
      throw check.configError('work', work, 'a promise or a function');
    }
    const id = this.nextTaskId++;
    this.tracked.set(id, name ?? `task#${id}`);
    const untrack = () => {
      this.tracked.delete(id);
      if (this.tracked.size === 0) for (const wake of this.settledWaiters) wake();
    };
    promise.then(untrack, untrack);
    return promise;
  }

  /**
   * Registers a cleanup hook (close the server, flush the checkpoint, quit Redis). Hooks run in
   * reverse order of registration, each bounded by its timeout; the signal aborts when it runs out.
   * Returns a function that unregisters it.
   */
  onCleanup(
    name: string,
    run: (signal: AbortSignal) => unknown,
    options: CleanupOptions = {},
  ): () => void {
    if (typeof name !== 'string' || name === '')
      throw check.configError('name', name, 'a non-empty string');
    check.fn('cleanup', run);
    const timeoutMs = check.positiveNumber(
      'timeoutMs',
      options.timeoutMs ?? this.options.cleanupTimeoutMs,
    );
    const hook: Hook = { name, run, timeoutMs };
    this.hooks.push(hook);
    return () => {
      const at = this.hooks.indexOf(hook);
      if (at !== -1) this.hooks.splice(at, 1);
    };
  }

  /** Starts a graceful shutdown from code (e.g. on a resource fault). Calling it again returns the same shutdown. */
  shutdown(reason = 'shutdown requested', exitCode = EXIT_CLEAN): Promise<ShutdownReport> {
    check.nonNegativeInteger('exitCode', exitCode);
    this.shutdownPromise ??= this.runShutdown(reason, undefined, exitCode);
    return this.shutdownPromise;
  }

  /** Removes the process listeners this lifecycle added (library mode, tests). */
  dispose(): void {
    for (const [event, listener] of this.listeners)
      process.removeListener(event as 'uncaughtException', listener);
    this.listeners.length = 0;
  }

  private listen(event: string, listener: (value: unknown) => void): void {
    process.on(event as 'uncaughtException', listener);
    this.listeners.push([event, listener]);
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.shutdownPromise === undefined) {
      this.shutdownPromise = this.runShutdown(signal, signal, exitCodeForSignal(signal));
      return;
    }
    if (!this.finalReport) this.force(`second ${signal}`, exitCodeForSignal(signal));
  }

  private onCrash(kind: string, error: unknown): void {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.options.log(`faultline: ${kind}: ${detail}`);
    if (this.shutdownPromise === undefined)
      this.shutdownPromise = this.runShutdown(kind, undefined, EXIT_FAILURE);
  }

  private async runShutdown(
    reason: string,
    signal: NodeJS.Signals | undefined,
    baseExitCode: number,
  ): Promise<ShutdownReport> {
    const { clock, log } = this.options;
    const started = clock.now();
    const cancelDeadline = clock.schedule(this.options.deadlineMs, () =>
      this.force(`deadline of ${this.options.deadlineMs} ms passed`, EXIT_FAILURE),
    );
    this.currentState = 'draining';
    this.stoppingController.abort(reason);
    const runningAtStart = this.running();
    log(
      `faultline: shutting down (${reason}); waiting up to ${this.options.graceMs} ms for ${describeTasks(runningAtStart)}`,
    );
    if (this.events.has('shutdown'))
      this.events.emit(
        'shutdown',
        signal ? { reason, signal, running: runningAtStart } : { reason, running: runningAtStart },
      );

    let aborted: string[] = [];
    if (!(await this.waitForTracked(this.options.graceMs))) {
      aborted = this.running();
      log(`faultline: grace period over, aborting ${describeTasks(aborted)}`);
      if (this.events.has('graceExpired')) this.events.emit('graceExpired', { running: aborted });
      this.workController.abort(new ShutdownInProgressError(reason));
      // Aborted work gets until the deadline to notice; the deadline timer forces the exit past that.
      await this.waitForTracked(Number.POSITIVE_INFINITY);
    }
    if (!this.signal.aborted) this.workController.abort(new ShutdownInProgressError(reason));

    // A second signal or the deadline may have ended things while we waited.
    if (this.finalReport) return this.finalReport;
    this.currentState = 'cleaning';
    const cleanups: CleanupReport[] = [];
    for (const hook of [...this.hooks].reverse()) {
      const report = await this.runHook(hook);
      if (this.finalReport) return this.finalReport;
      cleanups.push(report);
      if (!report.ok)
        log(
          `faultline: cleanup "${hook.name}" ${report.timedOut ? `timed out after ${hook.timeoutMs} ms` : `failed: ${errorText(report.error)}`}`,
        );
      if (this.events.has('cleanup')) this.events.emit('cleanup', report);
    }
    cancelDeadline();

    const exitCode = cleanups.every((c) => c.ok) ? baseExitCode : EXIT_FAILURE;
    const base = {
      reason,
      exitCode,
      forced: false,
      aborted,
      cleanups,
      durationMs: clock.now() - started,
    };
    const report: ShutdownReport = signal ? { ...base, signal } : base;
    return this.finish(report);
  }

  /** Resolves true when no tracked work is left, false when `ms` ran out first. */
  private async waitForTracked(ms: number): Promise<boolean> {
    if (this.tracked.size === 0) return true;
    const timer = new AbortController();
    let wake!: () => void;
    const settled = new Promise<void>((resolve) => {
      wake = resolve;
    });
    this.settledWaiters.add(wake);
    try {
      // Not unref'd: this wait is the work that keeps a shutting-down process alive.
      const expired = Number.isFinite(ms)
        ? this.options.clock.sleep(ms, timer.signal).then(() => false)
        : new Promise<boolean>(() => {});
      return await Promise.race([settled.then(() => true), expired]);
    } finally {
      this.settledWaiters.delete(wake);
      timer.abort();
    }
  }

  private async runHook(hook: Hook): Promise<CleanupReport> {
    const clock = this.options.clock;
    const started = clock.now();
    const controller = new AbortController();
    this.runningHook = hook.name;
    const timer = new AbortController();
    try {
      const outcome = await Promise.race([
        Promise.resolve()
          .then(() => hook.run(controller.signal))
          .then(
            () => ({ ok: true as const }),
            (error: unknown) => ({ ok: false as const, error }),
          ),
        clock.sleep(hook.timeoutMs, timer.signal).then(() => ({ timedOut: true as const })),
      ]);
      const durationMs = clock.now() - started;
      if ('timedOut' in outcome) {
        controller.abort(new Error(`cleanup "${hook.name}" timed out`));
        return { name: hook.name, ok: false, timedOut: true, durationMs };
      }
      return outcome.ok
        ? { name: hook.name, ok: true, timedOut: false, durationMs }
        : { name: hook.name, ok: false, timedOut: false, durationMs, error: outcome.error };
    } finally {
      timer.abort();
      this.runningHook = undefined;
    }
  }

  /** A second signal or the deadline: report what is still running and leave now. */
  private force(why: string, exitCode: number): void {
    if (this.finalReport) return;
    const running = this.running();
    const parts = [
      running.length > 0 ? `work: ${running.join(', ')}` : '',
      this.runningHook ? `cleanup: ${this.runningHook}` : '',
    ].filter(Boolean);
    this.options.log(
      `faultline: forced exit (${why}); still running: ${parts.length > 0 ? parts.join('; ') : 'nothing'}`,
    );
    if (!this.signal.aborted) this.workController.abort(new ShutdownInProgressError(why));
    const reason = typeof this.stopping.reason === 'string' ? this.stopping.reason : why;
    this.finish(
      { reason, exitCode, forced: true, aborted: running, cleanups: [], durationMs: 0 },
      true,
    );
  }

  private finish(report: ShutdownReport, immediately = false): ShutdownReport {
    if (this.finalReport) return this.finalReport;
    this.finalReport = report;
    this.currentState = 'stopped';
    if (!report.forced)
      this.options.log(
        `faultline: shutdown complete (${report.reason}), exit code ${report.exitCode}`,
      );
    if (this.events.has('exit')) this.events.emit('exit', report);
    this.resolveDone(report);
    if (!this.options.exit) {
      this.dispose();
      return report;
    }
    if (immediately) process.exit(report.exitCode);
    // Let buffered stdout/stderr drain (pipes can be asynchronous) before leaving, but not
    // forever: a reader that stopped reading must not keep a finished process alive.
    const exit = () => process.exit(report.exitCode);
    this.options.clock.schedule(FLUSH_LIMIT_MS, exit);
    void flushStdio().then(exit);
    return report;
  }
}

/** Creates a Lifecycle and installs its signal handlers (see the class). */
export function lifecycle(options?: LifecycleOptions): Lifecycle {
  return new Lifecycle(options);
}
