import type { Fault } from '../../src/faults/fault.js';
import { HealthMonitor, type HealthMonitorOptions } from '../../src/health/health-monitor.js';
import { type Poller, poll } from '../../src/health/poll.js';
import type { Clock } from '../../src/time/clock.js';
import { systemClock } from '../../src/time/system-clock.js';

/**
 * The stream monitor's core: polls a status API, shows the live status while it answers,
 * switches to a fallback display after 3 consecutive failures, backs off 10 s → 300 s while
 * failing, goes back after 5 consecutive successes, says when the API is flapping, and names
 * each kind of failure. Clock and fetch are injected so a test can drive it.
 */

/** What the status API returns. */
export interface StreamStatus {
  readonly live: boolean;
  readonly viewers?: number;
  readonly title?: string;
}

/** An HTTP answer that is not 2xx, shaped so `classify` reads its status and Retry-After. */
export class StatusHttpError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
  ) {
    super(`status API answered HTTP ${status}`);
    this.name = 'StatusHttpError';
  }
}

export interface StreamMonitorOptions {
  readonly statusUrl: string;
  readonly fetch?: typeof fetch;
  readonly clock?: Clock;
  /** Normal polling interval (default 30 s). */
  readonly intervalMs?: number;
  /** A check that takes longer fails as a timeout (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Extra HealthMonitor options (thresholds, flapping window, backoff). */
  readonly health?: Omit<HealthMonitorOptions, 'clock' | 'intervalMs' | 'name'>;
  /** Receives every display line (default: none). */
  readonly render?: (line: string) => void;
  readonly signal?: AbortSignal;
  /** Sent as `Authorization: Bearer <token>` (the `STATUS_API_TOKEN` variable in main.ts). */
  readonly token?: string;
  /** Keep the process alive while monitoring (main.ts: it runs until stopped). Default false. */
  readonly keepAlive?: boolean;
}

export interface StreamMonitor {
  readonly monitor: HealthMonitor;
  readonly poller: Poller<StreamStatus>;
  /** What the screen shows now. */
  display(): string;
  stop(): Promise<void>;
}

/** One human sentence per kind of failure, so an operator knows whom to call. */
export function describeFailure(fault: Fault): string {
  const status = fault.status === undefined ? '' : ` (HTTP ${fault.status})`;
  switch (fault.category) {
    case 'network':
      return `network error: cannot reach the status API${fault.code ? ` (${fault.code})` : ''}`;
    case 'unavailable':
      return `server error${status}: the status API is having trouble`;
    case 'auth':
      return `auth error${status}: the API token was refused, check STATUS_API_TOKEN`;
    case 'rate_limit':
      return `rate limited${status}${fault.retryAfterMs === undefined ? '' : `: asked to wait ${Math.round(fault.retryAfterMs / 1000)} s`}`;
    case 'timeout':
      return 'timeout: the status API did not answer in time';
    default:
      return `${fault.category} error${status}: ${fault.message}`;
  }
}

export function startStreamMonitor(options: StreamMonitorOptions): StreamMonitor {
  const clock = options.clock ?? systemClock;
  const fetchImpl = options.fetch ?? fetch;
  const render = options.render ?? (() => {});
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const monitor = new HealthMonitor({
    ...options.health,
    name: 'status-api',
    clock,
    intervalMs: options.intervalMs ?? 30_000,
  });
  let lastStatus: StreamStatus | undefined;
  let screen = 'starting…';

  const show = (line: string) => {
    screen = line;
    render(line);
  };
  const liveLine = (s: StreamStatus) =>
    `LIVE ${s.live ? 'on air' : 'off air'}${s.title ? ` "${s.title}"` : ''}${s.viewers === undefined ? '' : `, ${s.viewers} viewers`}`;
  const fallbackLine = (fault: Fault) => {
    const known = lastStatus ? `last known: ${liveLine(lastStatus).slice(5)}` : 'no status yet';
    return `FALLBACK (${known}) — ${describeFailure(fault)}; next check in ${Math.round(monitor.nextDelayMs() / 1000)} s`;
  };

  monitor.events.on('modeChange', (e) => {
    if (e.to === 'failing') render(`! status API failing: ${e.reason}`);
    else render(`✓ status API recovered: ${e.reason}`);
  });
  monitor.events.on('flapping', (e) => {
    render(
      e.unstable
        ? `! status API is flapping: ${e.modeChanges} mode changes in ${Math.round(e.windowMs / 60_000)} min`
        : '✓ status API is stable again',
    );
  });

  const check = async ({ signal }: { signal: AbortSignal }): Promise<StreamStatus> => {
    // A per-request timeout on the injected clock, so virtual time can drive it too.
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const cancel = clock.schedule(
      timeoutMs,
      () => controller.abort(new DOMException('status request timed out', 'TimeoutError')),
      { unref: true },
    );
    try {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      const res = await fetchImpl(options.statusUrl, { signal: controller.signal, headers });
      if (!res.ok) {
        await res.body?.cancel();
        throw new StatusHttpError(res.status, res.headers);
      }
      return (await res.json()) as StreamStatus;
    } finally {
      cancel();
      signal.removeEventListener('abort', onAbort);
    }
  };

  const poller = poll(check, {
    monitor,
    clock,
    keepAlive: options.keepAlive ?? false,
    ...(options.signal ? { signal: options.signal } : {}),
    onResult: (result) => {
      if (result.ok) lastStatus = result.value;
      if (result.mode === 'healthy') {
        show(
          result.ok
            ? liveLine(result.value)
            : `${lastStatus ? liveLine(lastStatus) : 'LIVE (no status yet)'} — check failed: ${describeFailure(result.fault)}`,
        );
      } else if (result.ok) {
        const s = monitor.stats();
        show(
          `FALLBACK (now: ${lastStatus ? liveLine(lastStatus).slice(5) : 'no status'}) — recovering: ${s.consecutiveSuccesses}/${monitor.stabilityThreshold} successes`,
        );
      } else {
        show(fallbackLine(result.fault));
      }
    },
  });

  return {
    monitor,
    poller,
    display: () => screen,
    stop: async () => {
      poller.stop();
      await poller.done;
    },
  };
}
