import { scoped } from '../validate/scoped.js';
import { classify as defaultClassify, type ClassifyFunction } from '../faults/classify.js';
import type { Fault, FaultCategory } from '../faults/fault.js';
import { Events } from '../observe/events.js';
import {
  type Backoff,
  constantBackoff,
  exponentialBackoff,
  isBackoff,
} from '../recovery/backoff.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';

/** Every option error names the option from `healthMonitor`. */
const check = scoped('healthMonitor');

/** `healthy` until enough consecutive failures; `failing` until enough consecutive successes. */
export type HealthMode = 'healthy' | 'failing';

export interface FlappingOptions {
  /**
   * This many mode changes inside `windowMs` mark the dependency unstable.
   * @defaultValue 4
   */
  readonly maxModeChanges?: number;
  /**
   * The sliding window, in ms.
   * @defaultValue 15 minutes
   */
  readonly windowMs?: number;
}

export interface HealthMonitorOptions {
  /**
   * A name for events and logs.
   * @defaultValue `dependency`
   */
  readonly name?: string;
  /**
   * Consecutive failures that switch a healthy dependency to failing.
   * @defaultValue 3
   */
  readonly failureThreshold?: number;
  /**
   * Consecutive successes that switch a failing dependency back to healthy.
   * @defaultValue 5
   */
  readonly stabilityThreshold?: number;
  /**
   * Delay between checks while healthy, and between checks that succeed while failing.
   * @defaultValue 10 000, as `FAULTLINE_HEALTH_INTERVAL_MS`
   */
  readonly intervalMs?: number;
  /**
   * Delay between checks while failing: attempt 1 is the delay after entering failing mode. `false`
   * turns the growth off: every check while failing waits the minimum, 10 s (the stream monitor's
   * `API_ENABLE_BACKOFF=false`); pass `constantBackoff(ms)` for another fixed wait.
   * @defaultValue 10 s doubling up to 300 s, no jitter
   */
  readonly failingBackoff?: Backoff | false;
  /**
   * Flapping detection; `false` turns it off.
   * @defaultValue on, with the `FlappingOptions` defaults
   */
  readonly flapping?: FlappingOptions | false;
  /**
   * Turns a thrown value into a Fault.
   * @defaultValue the built-in `classify`
   */
  readonly classify?: ClassifyFunction;
  /**
   * Timers and the times in results.
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
}

export interface ModeChangeEvent {
  readonly name: string;
  readonly from: HealthMode;
  readonly to: HealthMode;
  /** Why, in words: `3 consecutive failures (last: unavailable)` or `5 consecutive successes`. */
  readonly reason: string;
  /** The fault that tipped a dependency into failing mode; undefined on recovery. */
  readonly fault: Fault | undefined;
  /** Monotonic time of the change (Clock.now()). */
  readonly at: number;
}

export interface FlappingEvent {
  readonly name: string;
  /** True when the dependency just became unstable, false when it calmed down. */
  readonly unstable: boolean;
  /** Mode changes counted in the window. */
  readonly modeChanges: number;
  readonly windowMs: number;
}

export interface CheckResultEvent {
  readonly name: string;
  readonly ok: boolean;
  readonly mode: HealthMode;
  /** Set when the check failed. */
  readonly fault?: Fault;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  /** When the next check should run, per this monitor. */
  readonly nextDelayMs: number;
}

export interface HealthMonitorEvents {
  modeChange: ModeChangeEvent;
  flapping: FlappingEvent;
  result: CheckResultEvent;
}

export interface HealthMonitorStats {
  readonly mode: HealthMode;
  readonly unstable: boolean;
  readonly checks: number;
  readonly successes: number;
  readonly failures: number;
  readonly failuresByCategory: Readonly<Partial<Record<FaultCategory, number>>>;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  readonly modeChanges: number;
  readonly lastFault: Fault | undefined;
  /** Monotonic time of the last success / failure (undefined before the first). */
  readonly lastSuccessAt: number | undefined;
  readonly lastFailureAt: number | undefined;
}

/** The one default check interval; `fromEnv` (FAULTLINE_HEALTH_INTERVAL_MS) documents the same. */
export const DEFAULT_HEALTH_INTERVAL_MS = 10_000;
/** The first (and smallest) wait while failing. */
const FAILING_MIN_MS = 10_000;
const DEFAULT_FAILING_BACKOFF = exponentialBackoff({
  initialMs: FAILING_MIN_MS,
  factor: 2,
  maxDelayMs: 300_000,
  jitter: 'none',
});
/** `failingBackoff: false`: no growth, the minimum every time. */
const NO_FAILING_GROWTH = constantBackoff(FAILING_MIN_MS);
const OPTION_KEYS = [
  'name',
  'failureThreshold',
  'stabilityThreshold',
  'intervalMs',
  'failingBackoff',
  'flapping',
  'classify',
  'clock',
];

/**
 * Tracks the health of one long-running dependency (a status API, a database) from the outcomes
 * of its checks, with hysteresis so one blip does not flip the display, and says when to check
 * next: the normal interval while healthy, a growing backoff while failing.
 */
export class HealthMonitor {
  readonly name: string;
  readonly events = new Events<HealthMonitorEvents>();
  readonly failureThreshold: number;
  readonly stabilityThreshold: number;
  readonly intervalMs: number;
  private readonly failingBackoff: Backoff;
  private readonly flapMax: number;
  private readonly flapWindowMs: number;
  private readonly classifyError: ClassifyFunction;
  private readonly clock: Clock;

  private currentMode: HealthMode = 'healthy';
  private isUnstable = false;
  private consecutiveFailures = 0;
  private consecutiveSuccesses = 0;
  /** Failures since entering failing mode: the backoff attempt number. Reset on recovery. */
  private failingAttempt = 0;
  private lastDelayMs: number;
  private checks = 0;
  private successes = 0;
  private failures = 0;
  private modeChanges = 0;
  private byCategory: Partial<Record<FaultCategory, number>> = {};
  private changeTimes: number[] = [];
  private lastFaultValue: Fault | undefined;
  private lastSuccessAt: number | undefined;
  private lastFailureAt: number | undefined;

  constructor(options: HealthMonitorOptions = {}) {
    check.plainObject('options', options);
    check.knownKeys('healthMonitor', options, OPTION_KEYS);
    this.name = options.name === undefined ? 'dependency' : nameOption(options.name);
    this.failureThreshold = check.positiveInteger(
      'failureThreshold',
      options.failureThreshold ?? 3,
    );
    this.stabilityThreshold = check.positiveInteger(
      'stabilityThreshold',
      options.stabilityThreshold ?? 5,
    );
    this.intervalMs = check.positiveNumber(
      'intervalMs',
      options.intervalMs ?? DEFAULT_HEALTH_INTERVAL_MS,
    );
    const backoff = options.failingBackoff ?? DEFAULT_FAILING_BACKOFF;
    if (backoff !== false && !isBackoff(backoff)) {
      throw check.configError(
        'failingBackoff',
        backoff,
        'a Backoff (e.g. exponentialBackoff(...)) or false',
      );
    }
    this.failingBackoff = backoff === false ? NO_FAILING_GROWTH : backoff;
    if (options.flapping === false) {
      this.flapMax = Number.POSITIVE_INFINITY;
      this.flapWindowMs = 0;
    } else {
      const flapping = check.plainObject('flapping', options.flapping ?? {});
      check.knownKeys('flapping', flapping, ['maxModeChanges', 'windowMs']);
      this.flapMax = check.positiveInteger('flapping.maxModeChanges', flapping.maxModeChanges ?? 4);
      if (this.flapMax < 2)
        throw check.configError('flapping.maxModeChanges', this.flapMax, 'a whole number >= 2');
      this.flapWindowMs = check.positiveNumber(
        'flapping.windowMs',
        flapping.windowMs ?? 15 * 60_000,
      );
    }
    this.classifyError =
      options.classify === undefined ? defaultClassify : check.fn('classify', options.classify);
    this.clock = options.clock === undefined ? systemClock : check.clock('clock', options.clock);
    this.lastDelayMs = this.intervalMs;
  }

  get mode(): HealthMode {
    return this.currentMode;
  }

  /** True while mode changes come faster than the flapping window allows. */
  get unstable(): boolean {
    return this.isUnstable;
  }

  get lastFault(): Fault | undefined {
    return this.lastFaultValue;
  }

  /** The delay before the next check, as decided by the last recorded outcome. */
  nextDelayMs(): number {
    return this.lastDelayMs;
  }

  /** Records a successful check. Returns the delay before the next check. */
  recordSuccess(): number {
    const now = this.clock.now();
    this.checks++;
    this.successes++;
    this.lastSuccessAt = now;
    this.consecutiveFailures = 0;
    this.consecutiveSuccesses++;
    if (this.currentMode === 'failing' && this.consecutiveSuccesses >= this.stabilityThreshold) {
      this.failingAttempt = 0;
      this.changeMode(
        'healthy',
        `${this.consecutiveSuccesses} consecutive successes`,
        undefined,
        now,
      );
    }
    // While failing, a success is probed again at the normal pace so recovery is confirmed quickly.
    this.lastDelayMs = this.intervalMs;
    this.updateFlapping(now);
    this.emitResult(true, undefined);
    return this.lastDelayMs;
  }

  /** Records a failed check (any thrown value, or a Fault). Returns the classified fault. */
  recordFailure(error: unknown): Fault {
    const fault = this.classifyError(error);
    const now = this.clock.now();
    this.checks++;
    this.failures++;
    this.lastFailureAt = now;
    this.lastFaultValue = fault;
    this.byCategory[fault.category] = (this.byCategory[fault.category] ?? 0) + 1;
    this.consecutiveSuccesses = 0;
    this.consecutiveFailures++;
    if (this.currentMode === 'healthy' && this.consecutiveFailures >= this.failureThreshold) {
      const plural = this.consecutiveFailures === 1 ? 'failure' : 'consecutive failures';
      this.changeMode(
        'failing',
        `${this.consecutiveFailures} ${plural} (last: ${fault.category})`,
        fault,
        now,
      );
    }
    if (this.currentMode === 'failing') {
      this.failingAttempt++;
      const backoffMs = this.failingBackoff.delay(this.failingAttempt, this.lastDelayMs);
      // A server that said when to come back (Retry-After) is not asked earlier.
      this.lastDelayMs = Math.max(backoffMs, fault.retryAfterMs ?? 0);
    } else {
      this.lastDelayMs = Math.max(this.intervalMs, fault.retryAfterMs ?? 0);
    }
    this.updateFlapping(now);
    this.emitResult(false, fault);
    return fault;
  }

  /** Back to a fresh healthy state (counters kept). */
  reset(): void {
    this.currentMode = 'healthy';
    this.consecutiveFailures = 0;
    this.consecutiveSuccesses = 0;
    this.failingAttempt = 0;
    this.lastDelayMs = this.intervalMs;
    this.changeTimes = [];
    this.isUnstable = false;
  }

  stats(): HealthMonitorStats {
    return {
      mode: this.currentMode,
      unstable: this.isUnstable,
      checks: this.checks,
      successes: this.successes,
      failures: this.failures,
      failuresByCategory: { ...this.byCategory },
      consecutiveFailures: this.consecutiveFailures,
      consecutiveSuccesses: this.consecutiveSuccesses,
      modeChanges: this.modeChanges,
      lastFault: this.lastFaultValue,
      lastSuccessAt: this.lastSuccessAt,
      lastFailureAt: this.lastFailureAt,
    };
  }

  describe(): string {
    const backoff =
      this.failingBackoff === NO_FAILING_GROWTH
        ? `every ${FAILING_MIN_MS} ms while failing`
        : `backoff up to ${this.failingBackoff.maxDelayMs} ms`;
    return `healthMonitor(${this.name}: fail after ${this.failureThreshold}, recover after ${this.stabilityThreshold}, every ${this.intervalMs} ms, ${backoff})`;
  }

  private changeMode(to: HealthMode, reason: string, fault: Fault | undefined, now: number): void {
    const from = this.currentMode;
    this.currentMode = to;
    this.modeChanges++;
    if (this.flapWindowMs > 0) this.changeTimes.push(now);
    if (this.events.has('modeChange'))
      this.events.emit('modeChange', { name: this.name, from, to, reason, fault, at: now });
  }

  private updateFlapping(now: number): void {
    if (this.flapWindowMs === 0) return;
    const since = now - this.flapWindowMs;
    while (this.changeTimes.length > 0 && this.changeTimes[0]! <= since) this.changeTimes.shift();
    const count = this.changeTimes.length;
    // Hysteresis here too: unstable at the limit, stable again only once the window has emptied to half.
    const unstable = this.isUnstable ? count > Math.floor(this.flapMax / 2) : count >= this.flapMax;
    if (unstable === this.isUnstable) return;
    this.isUnstable = unstable;
    if (this.events.has('flapping')) {
      this.events.emit('flapping', {
        name: this.name,
        unstable,
        modeChanges: count,
        windowMs: this.flapWindowMs,
      });
    }
  }

  private emitResult(ok: boolean, fault: Fault | undefined): void {
    if (!this.events.has('result')) return;
    const base = {
      name: this.name,
      ok,
      mode: this.currentMode,
      consecutiveFailures: this.consecutiveFailures,
      consecutiveSuccesses: this.consecutiveSuccesses,
      nextDelayMs: this.lastDelayMs,
    };
    this.events.emit('result', fault === undefined ? base : { ...base, fault });
  }
}

function nameOption(value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw check.configError('name', value, 'a non-empty string');
  return value;
}

/** Creates a HealthMonitor (see the class for options). */
export function healthMonitor(options?: HealthMonitorOptions): HealthMonitor {
  return new HealthMonitor(options);
}
