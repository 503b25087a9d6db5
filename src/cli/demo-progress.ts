import cliProgress from 'cli-progress';
import type { Crawler } from '../demo/crawler.js';
import type { FaultCategory } from '../faults/fault.js';
import { systemClock } from '../time/system-clock.js';

/** Runs `tick` every `ms` on an unref'd clock timer; returns a function that stops it. */
function every(ms: number, tick: () => void): () => void {
  let cancel = systemClock.schedule(
    ms,
    function again() {
      tick();
      cancel = systemClock.schedule(ms, again, { unref: true });
    },
    { unref: true },
  );
  return () => cancel();
}

/**
 * The demo's live view: a progress bar on a terminal (counts by outcome, failures by category,
 * the breaker's state), or one plain `progress ...` line per interval when stderr is not a
 * terminal (CI logs, tests), so progress is visible either way.
 */
export interface ProgressView {
  stop(): void;
}

export interface ProgressCounts {
  done: number;
  completed: number;
  dead: number;
  retried: number;
  pauses: number;
  paused: boolean;
  readonly failures: Partial<Record<FaultCategory, number>>;
}

export function watchProgress(
  crawler: Crawler,
  total: number,
  alreadyDone: number,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressView {
  const counts: ProgressCounts = {
    done: alreadyDone,
    completed: 0,
    dead: 0,
    retried: 0,
    pauses: 0,
    paused: false,
    failures: {},
  };
  const fail = (category: FaultCategory) => {
    counts.failures[category] = (counts.failures[category] ?? 0) + 1;
  };
  const events = crawler.worker.events;
  const offs = [
    events.on('completed', () => {
      counts.done++;
      counts.completed++;
      counts.paused = false;
    }),
    events.on('retry', (e) => {
      counts.retried++;
      fail(e.fault.category);
    }),
    events.on('giveUp', (e) => {
      counts.done++;
      counts.dead++;
      fail(e.fault.category);
    }),
    events.on('paused', (e) => {
      counts.pauses++;
      counts.paused = true;
      fail(e.fault.category);
    }),
  ];
  const breaker = () => crawler.breaker.stats().state;
  const categories = () =>
    Object.entries(counts.failures)
      .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
      .map(([c, n]) => `${c} ${n}`)
      .join(', ') || 'none';

  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format:
          '{bar} {percentage}% {value}/{total} | ok {completed} dead {dead} retried {retried} | pauses {pauses}{pausedNow} | breaker {breaker} | failures: {categories}',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
        fps: 8,
      },
      cliProgress.Presets.shades_classic,
    );
    const payload = () => ({
      ...counts,
      pausedNow: counts.paused ? ' (paused)' : '',
      breaker: breaker(),
      categories: categories(),
    });
    bar.start(total, counts.done, payload());
    const stopTicking = every(125, () => bar.update(counts.done, payload()));
    return {
      stop() {
        stopTicking();
        bar.update(counts.done, payload());
        bar.stop();
        for (const off of offs) off();
      },
    };
  }

  const line = () =>
    `progress done=${counts.done} total=${total} completed=${counts.completed} dead=${counts.dead} retried=${counts.retried} pauses=${counts.pauses} breaker=${breaker()} failures: ${categories()}\n`;
  stream.write(line());
  const stopTicking = every(500, () => stream.write(line()));
  return {
    stop() {
      stopTicking();
      stream.write(line());
      for (const off of offs) off();
    },
  };
}
