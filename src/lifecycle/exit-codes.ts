import { constants } from 'node:os';
import { ConfigError } from '../faults/errors.js';

/** Exit code for a clean shutdown requested from code. */
export const EXIT_CLEAN = 0;
/** Exit code when a cleanup failed or timed out, the deadline passed, or the process crashed. */
export const EXIT_FAILURE = 1;

/** The shell convention: 128 + the signal number (SIGINT → 130, SIGTERM → 143). */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

// Signals a process cannot catch, or that mean "the terminal or debugger wants something else".
const NOT_CATCHABLE: ReadonlySet<string> = new Set(['SIGKILL', 'SIGSTOP']);

export function signalsOption(value: unknown): readonly NodeJS.Signals[] {
  if (!Array.isArray(value))
    throw new ConfigError('signals', value, 'an array of signal names, e.g. ["SIGINT", "SIGTERM"]');
  for (const [i, name] of value.entries()) {
    if (typeof name !== 'string' || !(name in constants.signals) || NOT_CATCHABLE.has(name)) {
      throw new ConfigError(
        `signals[${i}]`,
        name,
        'a catchable signal name such as "SIGINT" or "SIGTERM"',
      );
    }
  }
  return [...new Set(value as NodeJS.Signals[])];
}
