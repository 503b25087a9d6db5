import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
import { scoped } from '../validate/scoped.js';
import { signalsOption } from './exit-codes.js';
import { writeStderr } from './lifecycle-report.js';

/** Every option error names the option from `lifecycle`. */
const check = scoped('lifecycle');

export interface LifecycleOptions {
  /**
   * Signals that start a graceful shutdown. `[]` listens to none.
   * @defaultValue SIGINT and SIGTERM
   */
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * How long tracked work may run after shutdown starts before it is aborted.
   * @defaultValue 10 000
   */
  readonly graceMs?: number;
  /**
   * The whole shutdown's bound; past it the process exits with 1 at once.
   * @defaultValue 30 000
   */
  readonly deadlineMs?: number;
  /**
   * Default bound of each cleanup hook.
   * @defaultValue 5 000
   */
  readonly cleanupTimeoutMs?: number;
  /**
   * Call `process.exit` at the end. `false` is the library mode: read `done` instead.
   * @defaultValue true
   */
  readonly exit?: boolean;
  /**
   * Turn an uncaught exception or unhandled rejection into a graceful shutdown with exit code 1.
   * @defaultValue false
   */
  readonly handleUncaught?: boolean;
  /**
   * Where progress lines go.
   * @defaultValue written synchronously to stderr, so none is lost on exit
   */
  readonly log?: (line: string) => void;
  /**
   * The clock grace and cleanup timeouts run on.
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
}

/** The options with every default filled in. */
export type ResolvedLifecycleOptions = Required<Omit<LifecycleOptions, 'signals'>> & {
  readonly signals: readonly NodeJS.Signals[];
};

const OPTION_KEYS = [
  'signals',
  'graceMs',
  'deadlineMs',
  'cleanupTimeoutMs',
  'exit',
  'handleUncaught',
  'log',
  'clock',
];

/** Checks the options (each error names `lifecycle.<option>`) and fills in the defaults. */
export function resolveLifecycleOptions(options: LifecycleOptions): ResolvedLifecycleOptions {
  check.plainObject('options', options);
  check.knownKeys('lifecycle', options, OPTION_KEYS);
  const graceMs = check.nonNegativeNumber('graceMs', options.graceMs ?? 10_000);
  const deadlineMs = check.positiveNumber(
    'deadlineMs',
    options.deadlineMs ?? Math.max(30_000, graceMs + 20_000),
  );
  if (deadlineMs < graceMs)
    throw check.configError('deadlineMs', deadlineMs, `a number >= graceMs (${graceMs})`);
  return {
    signals: signalsOption(options.signals ?? ['SIGINT', 'SIGTERM']),
    graceMs,
    deadlineMs,
    cleanupTimeoutMs: check.positiveNumber('cleanupTimeoutMs', options.cleanupTimeoutMs ?? 5_000),
    exit: booleanOption('exit', options.exit ?? true),
    handleUncaught: booleanOption('handleUncaught', options.handleUncaught ?? false),
    log: options.log === undefined ? writeStderr : check.fn('log', options.log),
    clock: options.clock ?? systemClock,
  };
}

function booleanOption(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw check.configError(option, value, 'true or false');
  return value;
}
