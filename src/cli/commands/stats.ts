import type { Command } from 'commander';
import { type CommandContext, withStore } from '../context.js';
import { formatDuration, isoTime, table } from '../output.js';

export interface QueueStatsRow {
  readonly queue: string;
  readonly waiting: number;
  readonly delayed: number;
  readonly running: number;
  readonly completed: number;
  readonly dead: number;
  /** ISO time, `indefinite`, or null when the queue is not paused. */
  readonly pausedUntil: string | null;
  /** How long the oldest waiting job has been runnable, null when none waits. */
  readonly oldestWaitingAgeMs: number | null;
}

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description(
      'sizes of every queue: waiting, delayed, running, completed, dead, paused, oldest waiting age',
    )
    .option('-q, --queue <name>', 'only this queue')
    .action(async (options: { queue?: string }, command: Command) => {
      await withStore(command, (context) => stats(context, options.queue));
    });
}

async function stats(context: CommandContext, only: string | undefined): Promise<void> {
  const { out, opened, now } = context;
  const names = only === undefined ? await opened.store.queues() : [only];
  const at = now();
  const rows: QueueStatsRow[] = [];
  for (const queue of names) {
    const counts = await opened.store.stats(queue, at);
    rows.push({
      queue,
      waiting: counts.waiting,
      delayed: counts.delayed,
      running: counts.running,
      completed: counts.completed,
      dead: counts.dead,
      pausedUntil: counts.pausedUntil === null ? null : isoTime(counts.pausedUntil),
      oldestWaitingAgeMs:
        counts.oldestWaitingSince === null ? null : Math.max(0, at - counts.oldestWaitingSince),
    });
  }
  out.result({ store: opened.label, at: isoTime(at), queues: rows }, () => {
    if (rows.length === 0) return `No queues in ${opened.label} yet.`;
    const body = table(
      [
        'queue',
        'waiting',
        'delayed',
        'running',
        'completed',
        'dead',
        'paused until',
        'oldest waiting',
      ],
      rows.map((r) => [
        r.queue,
        r.waiting,
        r.delayed,
        r.running,
        r.completed,
        r.dead,
        r.pausedUntil ?? '-',
        r.oldestWaitingAgeMs === null ? '-' : formatDuration(r.oldestWaitingAgeMs),
      ]),
    );
    return `${opened.label}\n${body}`;
  });
}
