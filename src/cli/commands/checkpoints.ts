import type { Command } from 'commander';
import { type CommandContext, withStore } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { formatDuration, isoTime, printable, table, truncate } from '../output.js';

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function registerCheckpoints(program: Command): void {
  const checkpoints = program
    .command('checkpoints')
    .description('saved progress (crawl cursors, upload parts) by key');

  checkpoints
    .command('list')
    .description('every checkpoint, sorted by key')
    .option('-p, --prefix <prefix>', 'only keys starting with this')
    .action(async (options: { prefix?: string }, command: Command) => {
      await withStore(command, (context) => list(context, options.prefix));
    });

  checkpoints
    .command('show')
    .description('one checkpoint in full')
    .argument('<key>', 'the checkpoint key (see `faultline checkpoints list`)')
    .action(async (key: string, _options: unknown, command: Command) => {
      await withStore(command, (context) => show(context, key));
    });

  checkpoints
    .command('clear')
    .description(
      'delete a checkpoint (the next run starts from the beginning), or all under --prefix',
    )
    .argument('[key]', 'the checkpoint key')
    .option('-p, --prefix <prefix>', 'every key starting with this')
    .option('--dry-run', 'only show what would be deleted')
    .action(
      async (
        key: string | undefined,
        options: { prefix?: string; dryRun?: boolean },
        command: Command,
      ) => {
        await withStore(command, (context) => clear(context, key, options));
      },
    );
}

async function list(context: CommandContext, prefix: string | undefined): Promise<void> {
  const { out, opened, now } = context;
  const records = await opened.store.listCheckpoints(prefix);
  const at = now();
  out.result(
    {
      store: opened.label,
      count: records.length,
      checkpoints: records.map((r) => ({
        key: r.key,
        updatedAt: isoTime(r.updatedAt),
        value: parseJson(r.value),
      })),
    },
    () => {
      if (records.length === 0)
        return `No checkpoints${prefix === undefined ? '' : ` under ${JSON.stringify(prefix)}`} in ${opened.label}.`;
      return table(
        ['key', 'updated', 'value'],
        records.map((r) => [
          r.key,
          `${formatDuration(Math.max(0, at - r.updatedAt))} ago`,
          truncate(r.value, 60),
        ]),
      );
    },
  );
}

async function show(context: CommandContext, key: string): Promise<void> {
  const { out, opened } = context;
  const record = await opened.store.getCheckpoint(key);
  if (record === undefined) {
    throw new CliError(
      `No checkpoint with key ${JSON.stringify(key)} in ${opened.label}`,
      EXIT.notFound,
      `List checkpoints with: ${context.again('checkpoints list')}`,
    );
  }
  const value = parseJson(record.value);
  out.result(
    { store: opened.label, key: record.key, updatedAt: isoTime(record.updatedAt), value },
    () =>
      [
        `Checkpoint ${printable(record.key)} (updated ${isoTime(record.updatedAt)})`,
        printable(JSON.stringify(value, null, 2), { keepNewlines: true }),
      ].join('\n'),
  );
}

async function clear(
  context: CommandContext,
  key: string | undefined,
  options: { prefix?: string; dryRun?: boolean },
): Promise<void> {
  const { out, opened } = context;
  if ((key === undefined) === (options.prefix === undefined)) {
    throw new CliError('Give either a checkpoint key or --prefix', EXIT.usage);
  }
  const dryRun = options.dryRun === true;
  let keys: string[];
  if (key !== undefined) {
    const existing = await opened.store.getCheckpoint(key);
    if (existing === undefined) {
      throw new CliError(
        `No checkpoint with key ${JSON.stringify(key)} in ${opened.label}`,
        EXIT.notFound,
        `List checkpoints with: ${context.again('checkpoints list')}`,
      );
    }
    keys = [key];
  } else {
    keys = (await opened.store.listCheckpoints(options.prefix)).map((r) => r.key);
  }
  if (!dryRun) for (const k of keys) await opened.store.deleteCheckpoint(k);
  out.result(
    { store: opened.label, dryRun, count: keys.length, keys },
    () =>
      `${dryRun ? 'Would delete' : 'Deleted'} ${keys.length} checkpoint${keys.length === 1 ? '' : 's'}${keys.length > 0 ? `: ${printable(truncate(keys.join(', '), 400))}` : ''}`,
  );
}
