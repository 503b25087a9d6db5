import type { Command } from 'commander';
import { JobNotFoundError } from '../../durable/errors.js';
import type { DeadLetter, DeadLetterQuery, JobRecord } from '../../durable/store.js';
import type { FaultCategory } from '../../faults/fault.js';
import { type CommandContext, withStore } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { formatDuration, isoTime, printable, table, truncate } from '../output.js';
import { parseCategory, parseCount, parseDuration, parsePositiveCount } from '../parse.js';

interface FilterOptions {
  queue?: string;
  category?: FaultCategory;
  olderThan?: number;
  newerThan?: number;
}

function addFilters(command: Command): Command {
  return command
    .option('-q, --queue <name>', 'only this queue')
    .option('-c, --category <category>', 'only this fault category', parseCategory)
    .option(
      '--older-than <duration>',
      'dead for at least this long (30s, 5m, 2h, 7d)',
      parseDuration,
    )
    .option('--newer-than <duration>', 'dead for at most this long', parseDuration);
}

function queryOf(options: FilterOptions, now: number): DeadLetterQuery {
  return {
    ...(options.queue === undefined ? {} : { queue: options.queue }),
    ...(options.category === undefined ? {} : { category: options.category }),
    ...(options.olderThan === undefined ? {} : { olderThan: now - options.olderThan }),
    ...(options.newerThan === undefined ? {} : { newerThan: now - options.newerThan }),
  };
}

function hasFilter(options: FilterOptions): boolean {
  return (
    options.queue !== undefined ||
    options.category !== undefined ||
    options.olderThan !== undefined ||
    options.newerThan !== undefined
  );
}

/** Payloads and checkpoints are JSON text in the store; show them as values. */
function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function deadLetterJson(d: DeadLetter) {
  return {
    id: d.id,
    queue: d.queue,
    category: d.fault.category,
    message: d.fault.message,
    suggestions: d.fault.suggestions,
    attempts: d.attempts,
    enqueuedAt: isoTime(d.enqueuedAt),
    deadAt: isoTime(d.deadAt),
    payload: parseJson(d.payload),
  };
}

export function registerDead(program: Command): void {
  const dead = program
    .command('dead')
    .description(
      'dead letters: jobs that could not be processed, with their fault and suggestions',
    );

  addFilters(dead.command('list').description('list dead letters, newest first'))
    .option('-n, --limit <n>', 'at most this many (default 50)', parsePositiveCount, 50)
    .action(async (options: FilterOptions & { limit: number }, command: Command) => {
      await withStore(command, (context) => list(context, options));
    });

  dead
    .command('show')
    .description(
      'one dead letter in full: payload, fault, suggestions, attempt history, checkpoint',
    )
    .argument('<id>', 'the dead letter id (see `faultline dead list`)')
    .action(async (id: string, _options: unknown, command: Command) => {
      await withStore(command, (context) => show(context, id));
    });

  addFilters(
    dead
      .command('requeue')
      .description('put dead letters back in their queue (by id, by filter, or --all)'),
  )
    .argument('[ids...]', 'dead letter ids')
    .option('--all', 'every dead letter (in the --queue, if given)')
    .option('--dry-run', 'only show what would be requeued')
    .action(
      async (
        ids: string[],
        options: FilterOptions & { all?: boolean; dryRun?: boolean },
        command: Command,
      ) => {
        await withStore(command, (context) => requeue(context, ids, options));
      },
    );

  addFilters(
    dead.command('purge').description('delete dead letters (by filter, --keep N newest, or --all)'),
  )
    .option('--keep <n>', 'keep the newest N in scope', parseCount)
    .option('--all', 'every dead letter (in the --queue, if given)')
    .option('--dry-run', 'only show what would be deleted')
    .action(
      async (
        options: FilterOptions & { keep?: number; all?: boolean; dryRun?: boolean },
        command: Command,
      ) => {
        await withStore(command, (context) => purge(context, options));
      },
    );
}

async function list(
  context: CommandContext,
  options: FilterOptions & { limit: number },
): Promise<void> {
  const { out, opened, now } = context;
  const at = now();
  const letters = await opened.store.listDead({ ...queryOf(options, at), limit: options.limit });
  out.result(
    { store: opened.label, count: letters.length, deadLetters: letters.map(deadLetterJson) },
    () => {
      if (letters.length === 0)
        return `No dead letters${hasFilter(options) ? ' match' : ''} in ${opened.label}.`;
      const rows = letters.map((d) => [
        d.id,
        d.queue,
        d.fault.category,
        truncate(d.fault.message, 50),
        d.attempts,
        `${formatDuration(at - d.deadAt)} ago`,
      ]);
      return `${table(['id', 'queue', 'category', 'message', 'attempts', 'dead'], rows)}\nShow one with: ${context.again('dead show <id>')}`;
    },
  );
}

async function show(context: CommandContext, id: string): Promise<void> {
  const { out, opened, now } = context;
  const job = await opened.store.getJob(id);
  if (job === undefined || job.state !== 'dead' || job.fault === undefined) {
    throw new CliError(
      job === undefined
        ? `No dead letter with id ${JSON.stringify(id)} in ${opened.label}`
        : `Job ${JSON.stringify(id)} is ${job.state}, not a dead letter`,
      EXIT.notFound,
      `List dead letters with: ${context.again('dead list')}`,
    );
  }
  out.result(jobJson(job), () => renderJob(job, now(), context.again));
}

function jobJson(job: JobRecord) {
  return {
    id: job.id,
    queue: job.queue,
    state: job.state,
    category: job.fault?.category,
    message: job.fault?.message,
    suggestions: job.fault?.suggestions ?? [],
    attempts: job.attempts,
    enqueuedAt: isoTime(job.enqueuedAt),
    deadAt: job.finishedAt === undefined ? null : isoTime(job.finishedAt),
    idempotencyKey: job.idempotencyKey ?? null,
    payload: parseJson(job.payload),
    checkpoint: parseJson(job.checkpoint) ?? null,
    history: job.history.map((h) => ({ ...h, startedAt: isoTime(h.startedAt) })),
  };
}

function renderJob(job: JobRecord, now: number, again: (rest: string) => string): string {
  const fault = job.fault!;
  // Everything below comes from the store: printable() escapes control characters in it.
  const lines = [
    `Dead letter ${printable(job.id)} (queue ${printable(job.queue)})`,
    `  category:  ${printable(fault.category)}`,
    `  message:   ${printable(fault.message)}`,
    `  attempts:  ${job.attempts}`,
    `  dead:      ${job.finishedAt === undefined ? '?' : `${isoTime(job.finishedAt)} (${formatDuration(now - job.finishedAt)} ago)`}`,
    `  payload:   ${printable(truncate(job.payload, 200))}`,
  ];
  if (job.checkpoint !== undefined)
    lines.push(`  checkpoint: ${printable(truncate(job.checkpoint, 200))}`);
  if (fault.suggestions.length > 0) {
    lines.push('  what to do:');
    for (const s of fault.suggestions) lines.push(`    - ${printable(s)}`);
  }
  if (job.history.length > 0) {
    const rows = job.history.map((h) => [
      h.attempt,
      isoTime(h.startedAt),
      formatDuration(h.durationMs),
      h.outcome,
      h.category ?? '-',
      truncate(h.message ?? '', 40),
      h.workerId,
    ]);
    lines.push(table(['#', 'started', 'took', 'outcome', 'category', 'message', 'worker'], rows));
  }
  lines.push(`Requeue it with: ${printable(again(`dead requeue ${job.id}`))}`);
  return lines.join('\n');
}

async function requeue(
  context: CommandContext,
  ids: string[],
  options: FilterOptions & { all?: boolean; dryRun?: boolean },
): Promise<void> {
  const { out, opened, now } = context;
  if (ids.length > 0 && (hasFilter(options) || options.all)) {
    throw new CliError(
      'Give either dead letter ids or filters (--queue, --category, --older-than, --all), not both',
      EXIT.usage,
    );
  }
  if (ids.length === 0 && !hasFilter(options) && !options.all) {
    throw new CliError(
      'Nothing selected: give dead letter ids, a filter (--queue, --category, --older-than) or --all',
      EXIT.usage,
    );
  }
  const at = now();
  const dryRun = options.dryRun === true;
  let requeued: string[];
  try {
    requeued = await opened.store.requeueDead(
      ids.length > 0 ? { ids } : { query: queryOf(options, at) },
      { now: at, dryRun },
    );
  } catch (error) {
    if (error instanceof JobNotFoundError) {
      throw new CliError(
        `No dead letter with id ${JSON.stringify(error.jobId)} in ${opened.label}; nothing was requeued`,
        EXIT.notFound,
        `List dead letters with: ${context.again('dead list')}`,
      );
    }
    throw error;
  }
  out.result({ store: opened.label, dryRun, count: requeued.length, ids: requeued }, () => {
    const verb = dryRun ? 'Would requeue' : 'Requeued';
    return `${verb} ${requeued.length} dead letter${requeued.length === 1 ? '' : 's'}${requeued.length > 0 ? `: ${printable(truncate(requeued.join(', '), 400))}` : ''}`;
  });
}

async function purge(
  context: CommandContext,
  options: FilterOptions & { keep?: number; all?: boolean; dryRun?: boolean },
): Promise<void> {
  const { out, opened, now } = context;
  if (!hasFilter(options) && options.keep === undefined && !options.all) {
    throw new CliError(
      'Nothing selected: give a filter (--queue, --category, --older-than), --keep N or --all',
      EXIT.usage,
    );
  }
  if (options.newerThan !== undefined)
    throw new CliError('purge takes --older-than, not --newer-than', EXIT.usage);
  const at = now();
  const query = queryOf(options, at);
  const dryRun = options.dryRun === true;
  let count: number;
  let ids: string[] | undefined;
  if (dryRun) {
    // Same selection as purgeDead: the filters, then all but the newest `keep`.
    const matching = await opened.store.listDead(query);
    ids = matching.slice(options.keep ?? 0).map((d) => d.id);
    count = ids.length;
  } else {
    count = await opened.store.purgeDead({
      ...query,
      ...(options.keep === undefined ? {} : { keepNewest: options.keep }),
    });
  }
  out.result(
    { store: opened.label, dryRun, count, ...(ids === undefined ? {} : { ids }) },
    () => `${dryRun ? 'Would delete' : 'Deleted'} ${count} dead letter${count === 1 ? '' : 's'}`,
  );
}
