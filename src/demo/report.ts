import type { DeadLetter } from '../durable/store.js';
import type { FaultCategory } from '../faults/fault.js';
import type { Crawler, CrawlOutcome } from './crawler.js';

/** The end-of-run summary by category, with the dead letters and what to do about them. */
export interface CrawlReport {
  readonly queue: string;
  readonly items: number;
  readonly resumed: boolean;
  readonly finished: boolean;
  readonly interrupted: boolean;
  /** Why the plan stopped the crawl (bad credentials), if it did. */
  readonly aborted: {
    readonly category: FaultCategory;
    readonly reason: string;
    readonly suggestions: readonly string[];
  } | null;
  readonly runs: number;
  readonly durationMs: number;
  /** What this run did. */
  readonly thisRun: {
    readonly completed: number;
    readonly retried: number;
    readonly deadLettered: number;
    readonly released: number;
    readonly pauses: number;
    readonly pausedMs: number;
  };
  /** The whole crawl, from the store. */
  readonly totals: {
    readonly completed: number;
    readonly dead: number;
    readonly waiting: number;
    readonly delayed: number;
    readonly running: number;
    /** Items not yet in the queue (seeding was interrupted). */
    readonly notEnqueued: number;
  };
  /** One row per category seen: the plan's action, failed runs this run, dead letters in all. */
  readonly byCategory: readonly {
    readonly category: FaultCategory;
    readonly action: string;
    readonly failures: number;
    readonly deadLetters: number;
  }[];
  /** Dead letters grouped by category, with one example and the suggestions. */
  readonly deadLetters: readonly {
    readonly category: FaultCategory;
    readonly count: number;
    readonly example: { readonly id: string; readonly item: unknown; readonly message: string };
    readonly suggestions: readonly string[];
  }[];
  readonly breaker: string;
}

export async function buildReport(crawler: Crawler, outcome: CrawlOutcome): Promise<CrawlReport> {
  const counts = await crawler.queue.stats();
  const letters: DeadLetter[] = await crawler.queue.store.listDead({ queue: crawler.queue.name });
  const deadByCategory = new Map<FaultCategory, DeadLetter[]>();
  for (const letter of letters) {
    const list = deadByCategory.get(letter.fault.category) ?? [];
    list.push(letter);
    deadByCategory.set(letter.fault.category, list);
  }
  const failures = outcome.summary.failuresByCategory;
  const categories = new Set<FaultCategory>([
    ...(Object.keys(failures) as FaultCategory[]),
    ...deadByCategory.keys(),
  ]);
  const byCategory = [...categories]
    .map((category) => ({
      category,
      action: crawler.plan.rule(category).action,
      failures: failures[category] ?? 0,
      deadLetters: deadByCategory.get(category)?.length ?? 0,
    }))
    .sort((a, b) => b.failures + b.deadLetters - (a.failures + a.deadLetters));
  const deadLetters = [...deadByCategory.entries()]
    .map(([category, list]) => {
      const first = list[0]!;
      return {
        category,
        count: list.length,
        example: { id: first.id, item: safeJson(first.payload), message: first.fault.message },
        suggestions: first.fault.suggestions,
      };
    })
    .sort((a, b) => b.count - a.count);
  const s = outcome.summary;
  const abort = outcome.abortedBy;
  return {
    queue: crawler.queue.name,
    items: outcome.items,
    resumed: outcome.resumed,
    finished: outcome.finished,
    interrupted: outcome.interrupted,
    aborted:
      abort === undefined
        ? null
        : { category: abort.fault.category, reason: abort.reason, suggestions: abort.suggestions },
    runs: outcome.checkpoint.runs,
    durationMs: Math.round(outcome.durationMs),
    thisRun: {
      completed: s.processed,
      retried: s.retried,
      deadLettered: s.deadLettered,
      released: s.released,
      pauses: s.pauses,
      pausedMs: Math.round(s.pausedMs),
    },
    totals: {
      completed: counts.completed - outcome.checkpoint.completedBefore,
      dead: counts.dead,
      waiting: counts.waiting,
      delayed: counts.delayed,
      running: counts.running,
      notEnqueued: outcome.items - outcome.checkpoint.enqueued,
    },
    byCategory,
    deadLetters,
    breaker: crawler.breaker.stats().state,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
