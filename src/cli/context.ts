import type { Command } from 'commander';
import { systemClock } from '../time/system-clock.js';
import { type OpenedStore, openStore, parseStoreOption } from './store.js';
import { commandOn } from './hints.js';
import { createOutput, type Output } from './output.js';

/** Options every command accepts (declared on the root program). */
export interface GlobalOptions {
  readonly store: string;
  readonly redisPrefix?: string;
  readonly pgSchema?: string;
  readonly json?: boolean;
}

export interface CommandContext {
  readonly out: Output;
  readonly opened: OpenedStore;
  /** Wall-clock epoch ms, as the store expects. */
  readonly now: () => number;
  /** A command to copy into a hint, on this same store: `again('dead list')`. */
  readonly again: (rest: string) => string;
}

/** The global options as seen from a (sub)command. */
export function globalsOf(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

/** Opens the store, runs `body`, always closes the store. */
export async function withStore<T>(
  command: Command,
  body: (context: CommandContext) => Promise<T>,
): Promise<T> {
  const globals = globalsOf(command);
  const out = createOutput(globals.json === true);
  const location = parseStoreOption(globals.store);
  const opened = await openStore(location, {
    create: false,
    ...(globals.redisPrefix === undefined ? {} : { prefix: globals.redisPrefix }),
    ...(globals.pgSchema === undefined ? {} : { schema: globals.pgSchema }),
  });
  try {
    return await body({
      out,
      opened,
      now: () => systemClock.wallTime(),
      again: (rest) => commandOn(opened, globals.redisPrefix, rest),
    });
  } finally {
    await opened.store.close();
  }
}
