import { classify } from '../../src/faults/classify.js';
import { ConfigError, RetriesExhaustedError } from '../../src/faults/errors.js';
import type { FaultCategory } from '../../src/faults/fault.js';
import { AdaptiveThrottle } from '../../src/policies/adaptive.js';
import { CircuitBreaker } from '../../src/policies/circuit-breaker.js';
import { pipeline } from '../../src/policies/pipeline.js';
import { RetryPolicy, type RetryOptions } from '../../src/policies/retry.js';
import { TimeoutPolicy } from '../../src/policies/timeout.js';
import { recoveryPlan } from '../../src/recovery/plan.js';
import type { RandomSource } from '../../src/recovery/random.js';
import type { Clock } from '../../src/time/clock.js';
import { systemClock } from '../../src/time/system-clock.js';

/**
 * The archive downloader's core (scenario 2). Every item is fetched from its upstream through
 *
 *     retry (default plan: exponential backoff with full jitter, per-reason multipliers)
 *       └ circuit breaker (one per upstream: a dead mirror does not slow the others down)
 *           └ adaptive throttle (one per upstream: sheds calls when most are refused)
 *               └ timeout (per request)
 *
 * Retry delays are stretched by the upstream's `delayFactor()` (1 when all is well, up to 10
 * when little succeeds), read at each retry; quota / rate-limit answers wait 3× longer
 * than other reasons; permanent errors (400, 403, 404, 410, 422) are never retried. Every item
 * that fails ends up in the report with its category, message and suggestions.
 */

export interface ArchiveItem {
  /** Unique in the run; names the item in the report. */
  readonly id: string;
  /** Name of the upstream (a key of `upstreams`). */
  readonly upstream: string;
  /** Path on that upstream, starting with `/`. */
  readonly path: string;
  /**
   * Other retry options for this item only (the system's `execute_with_retry(op, ctx, retry_config)`):
   * applied with `retry.with(...)`, so the upstream's stats and events still see the call.
   */
  readonly retry?: RetryOptions;
  /**
   * `http` (default): a non-2xx answer is an error with its status. `sdk`: the item comes through a
   * client library that throws plain `Error`s with only a message (as many SDKs do); faultline's
   * message classifier reads "quota exceeded", "unauthorized" and the like from it.
   */
  readonly via?: 'http' | 'sdk';
}

export interface DownloaderOptions {
  /** Upstream name → base URL (`http://127.0.0.1:8080`). */
  readonly upstreams: Readonly<Record<string, string>>;
  readonly items: readonly ArchiveItem[];
  /** Receives each downloaded body (default: dropped). */
  readonly save?: (item: ArchiveItem, body: Uint8Array) => Promise<void> | void;
  /** How much longer a quota / rate-limit wait is than the plan's (default 3). */
  readonly quotaDelayMultiplier?: number;
  /** Consecutive counted failures that open an upstream's breaker (default 3). */
  readonly breakerFailures?: number;
  /** How long an open breaker refuses calls before a probe (default 60 s, the system's `recovery_timeout`). */
  readonly breakerOpenMs?: number;
  /** Gap between two items of an upstream, times (delayFactor − 1): 0 while all succeeds (default 500 ms). */
  readonly paceMs?: number;
  /** Deadline per request (default 30 s). */
  readonly requestTimeoutMs?: number;
  readonly clock?: Clock;
  /** Jitter and throttling source; seed it in tests. */
  readonly random?: RandomSource;
  readonly fetch?: typeof fetch;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

/** A non-2xx answer, shaped so `classify` sees the status and its Retry-After header. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    url: string,
  ) {
    super(`HTTP ${status} from ${url}`);
    this.name = 'HttpStatusError';
  }
}

export interface DownloadFailure {
  readonly item: string;
  readonly upstream: string;
  readonly category: FaultCategory;
  readonly status?: number;
  readonly message: string;
  readonly suggestions: readonly string[];
  /** Requests made for this item (calls refused by a breaker or the throttle are not requests). */
  readonly requests: number;
}

export interface UpstreamReport {
  readonly downloaded: number;
  readonly failed: number;
  readonly breakerState: string;
  /** Times the upstream's breaker opened. */
  readonly breakerOpened: number;
  /** Requests that reached the upstream in this run, and how many of them succeeded. */
  readonly requests: number;
  readonly succeededRequests: number;
  /** succeededRequests / requests over the whole run (1 when nothing was asked). */
  readonly successRate: number;
  /** The adaptive throttle's factor at the end (its window forgets old answers, so it may be back to 1). */
  readonly delayFactor: number;
  /** Calls the adaptive throttle refused locally. */
  readonly throttled: number;
}

export interface DownloadReport {
  readonly downloaded: readonly {
    readonly item: string;
    readonly upstream: string;
    readonly bytes: number;
  }[];
  /** Every failed item, in the order the items were given. */
  readonly failures: readonly DownloadFailure[];
  readonly byCategory: Readonly<Partial<Record<FaultCategory, number>>>;
  readonly upstreams: Readonly<Record<string, UpstreamReport>>;
}

/** The policies guarding one upstream. */
export interface UpstreamGuard {
  /** Backoff stretched by `throttle.delayFactor()`, read at each retry. */
  readonly retry: RetryPolicy;
  readonly breaker: CircuitBreaker;
  readonly throttle: AdaptiveThrottle;
}

export interface ArchiveDownload {
  /** Per upstream, live: watch `breaker.events` or read `throttle.stats()` while it runs. */
  readonly guards: ReadonlyMap<string, UpstreamGuard>;
  readonly done: Promise<DownloadReport>;
}

/**
 * Starts downloading. Upstreams are worked on side by side, the items of one upstream one after
 * another (an archive mirror rarely likes parallel clients); the promise settles with the report.
 */
export function startDownload(options: DownloaderOptions): ArchiveDownload {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const fetchImpl = options.fetch ?? fetch;
  const log = options.log ?? (() => {});
  const quota = options.quotaDelayMultiplier ?? 3;
  for (const [i, item] of options.items.entries()) {
    if (options.upstreams[item.upstream] === undefined)
      throw new ConfigError(
        `items[${i}].upstream`,
        item.upstream,
        `one of ${Object.keys(options.upstreams).join(', ')}`,
      );
  }
  const timeout = new TimeoutPolicy({ timeoutMs: options.requestTimeoutMs ?? 30_000, clock });
  // Quota / rate-limit backoff waits `quota` times longer than other reasons (a Retry-After is kept as sent).
  const plan = recoveryPlan({ random, delayMultipliers: { rate_limit: quota } });
  const guards = new Map<string, UpstreamGuard>();
  for (const name of Object.keys(options.upstreams)) {
    const breaker = new CircuitBreaker({
      name,
      clock,
      random,
      trigger: { kind: 'consecutive', failures: options.breakerFailures ?? 3 },
      halfOpenAfter: options.breakerOpenMs ?? 60_000,
    });
    breaker.events.on('stateChange', (e) =>
      log(`breaker ${name}: ${e.from} → ${e.to} (${e.reason})`),
    );
    // The throttle measures the upstream's success rate; the downloader slows down by it (longer
    // retry waits, a gap between items). Local shedding is off (nothing counts as refused): with a
    // few items per mirror it would refuse the very retries the breaker already paces.
    const throttle = new AdaptiveThrottle({ name, clock, random, refusedCategories: [] });
    // The upstream's recent success rate stretches every retry wait, read when the wait starts.
    const retry = new RetryPolicy({ plan, clock, random, delayFactor: throttle });
    retry.events.on('retry', (e) => log(`${String(e.operation?.attributes?.item)}: ${e.reason}`));
    guards.set(name, { retry, breaker, throttle });
  }

  const downloaded: { item: string; upstream: string; bytes: number }[] = [];
  // Counted for the whole run: the throttle's success rate is a sliding window that empties.
  const requestCounts = new Map<string, { requests: number; succeeded: number }>(
    [...guards.keys()].map((name) => [name, { requests: 0, succeeded: 0 }]),
  );
  const failures = new Map<string, DownloadFailure>();

  const downloadOne = async (item: ArchiveItem, guard: UpstreamGuard): Promise<void> => {
    const url = `${options.upstreams[item.upstream]!.replace(/\/$/, '')}${item.path}`;
    let requests = 0;
    // The item travels with every event and error of this call (the retry log line above reads it).
    const operation = { name: 'download', attributes: { item: item.id, upstream: item.upstream } };
    const counts = requestCounts.get(item.upstream)!;
    const retryPolicy = item.retry === undefined ? guard.retry : guard.retry.with(item.retry);
    try {
      const body = await pipeline(retryPolicy, guard.breaker, guard.throttle, timeout).execute(
        async ({ signal }) => {
          requests++;
          counts.requests++;
          const res = await fetchImpl(url, { signal });
          if (!res.ok) {
            if (item.via === 'sdk') throw await sdkError(res);
            await res.body?.cancel();
            throw new HttpStatusError(res.status, res.headers, url);
          }
          const bytes = new Uint8Array(await res.arrayBuffer());
          counts.succeeded++;
          return bytes;
        },
        options.signal === undefined ? { operation } : { operation, signal: options.signal },
      );
      await options.save?.(item, body);
      downloaded.push({ item: item.id, upstream: item.upstream, bytes: body.length });
      log(`${item.id}: ${body.length} bytes`);
    } catch (error) {
      // A spent retry carries the last fault; anything else (a 404, an abort) is classified as is.
      const fault = error instanceof RetriesExhaustedError ? error.lastFault : classify(error);
      const message = error instanceof Error ? error.message : fault.message;
      const failure: DownloadFailure = {
        item: item.id,
        upstream: item.upstream,
        category: fault.category,
        ...(fault.status === undefined ? {} : { status: fault.status }),
        message,
        suggestions: fault.suggestions,
        requests,
      };
      failures.set(item.id, failure);
      log(`${item.id}: FAILED (${fault.category}) ${message}`);
    }
  };

  const paceMs = options.paceMs ?? 500;
  const lane = async (name: string, guard: UpstreamGuard): Promise<void> => {
    let first = true;
    for (const item of options.items) {
      if (item.upstream !== name) continue;
      if (options.signal?.aborted) return;
      // Slow down as the upstream degrades: no gap while all succeeds, up to 9 × paceMs.
      const gapMs = first ? 0 : Math.round(paceMs * (guard.throttle.delayFactor() - 1));
      first = false;
      if (gapMs > 0) {
        log(
          `${name}: success rate ${Math.round(guard.throttle.successRate() * 100)}%, waiting ${gapMs} ms before ${item.id}`,
        );
        try {
          await clock.sleep(gapMs, options.signal);
        } catch {
          return; // Aborted.
        }
      }
      await downloadOne(item, guard);
    }
  };

  const done = Promise.all([...guards].map(([name, guard]) => lane(name, guard))).then(
    (): DownloadReport => {
      const ordered = options.items.flatMap((item) => failures.get(item.id) ?? []);
      const byCategory: Partial<Record<FaultCategory, number>> = {};
      for (const f of ordered) byCategory[f.category] = (byCategory[f.category] ?? 0) + 1;
      const upstreams: Record<string, UpstreamReport> = {};
      for (const [name, { breaker, throttle }] of guards) {
        const b = breaker.stats();
        const t = throttle.stats();
        const counts = requestCounts.get(name)!;
        upstreams[name] = {
          downloaded: downloaded.filter((d) => d.upstream === name).length,
          failed: ordered.filter((f) => f.upstream === name).length,
          breakerState: b.state,
          breakerOpened: b.opened,
          requests: counts.requests,
          succeededRequests: counts.succeeded,
          successRate: counts.requests === 0 ? 1 : counts.succeeded / counts.requests,
          delayFactor: t.delayFactor,
          throttled: t.rejections,
        };
      }
      return { downloaded, failures: ordered, byCategory, upstreams };
    },
  );
  return { guards, done };
}

/**
 * What a client library that hides HTTP throws: a plain Error with the service's message and no
 * status (the body's `message`, e.g. "Quota exceeded for quota metric 'Queries'").
 */
async function sdkError(res: Response): Promise<Error> {
  let message = 'request failed';
  try {
    const body = (await res.json()) as { message?: unknown };
    if (typeof body.message === 'string' && body.message !== '')
      message = body.message.slice(0, 500);
  } catch {
    // Not JSON: the generic message.
  }
  return new Error(message);
}
