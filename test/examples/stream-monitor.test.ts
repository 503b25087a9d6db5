import { afterEach, describe, expect, it } from 'vitest';
import { startStreamMonitor, type StreamMonitor } from '../../examples/stream-monitor/monitor.js';
import type {
  CheckResultEvent,
  FlappingEvent,
  ModeChangeEvent,
} from '../../src/health/health-monitor.js';
import {
  type FlakyServer,
  type FlakyStep,
  flakyServer,
  times,
} from '../../src/testing/flaky-server.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

let server: FlakyServer | undefined;
let app: StreamMonitor | undefined;
afterEach(async () => {
  await app?.stop();
  await server?.close();
  app = undefined;
  server = undefined;
});

const ok = (viewers: number): FlakyStep => ({ body: { live: true, title: 'Launch', viewers } });

/** Starts the example against a scripted status API and records every check on the virtual clock. */
async function setUp(script: FlakyStep[]) {
  server = await flakyServer({ routes: { '/status': script } });
  const clock = new VirtualClock();
  const lines: string[] = [];
  const checks: (CheckResultEvent & { at: number; screen: string })[] = [];
  const modeChanges: ModeChangeEvent[] = [];
  const flapping: FlappingEvent[] = [];
  let wake: (() => void) | undefined;
  app = startStreamMonitor({
    statusUrl: `${server.url}/status`,
    clock,
    intervalMs: 30_000,
    requestTimeoutMs: 10_000,
    render: (l) => lines.push(l),
  });
  const started = app;
  started.monitor.events.on('result', (e) => {
    // The display is updated right after the monitor records the result.
    queueMicrotask(() => {
      checks.push({ ...e, at: clock.now(), screen: started.display() });
      wake?.();
    });
  });
  started.monitor.events.on('modeChange', (e) => modeChanges.push(e));
  started.monitor.events.on('flapping', (e) => flapping.push(e));
  /** Waits (on the real HTTP exchange) for check number `n` to finish. */
  const checkDone = (n: number) =>
    new Promise<void>((resolve) => {
      if (checks.length >= n) return resolve();
      wake = () => {
        if (checks.length >= n) resolve();
      };
    });
  /** Runs `count` checks: wait for each to finish, then jump the virtual clock to the next one. */
  const runChecks = async (count: number) => {
    const target = checks.length + count;
    while (checks.length < target) {
      const n = checks.length + 1;
      // The first check runs at once; each later one after the monitor's delay.
      if (n > 1) await clock.next();
      await checkDone(n);
    }
  };
  return {
    clock,
    lines,
    checks,
    modeChanges,
    flapping,
    runChecks,
    checkDone,
    app: started,
    server,
  };
}

describe('examples/stream-monitor (e2e: real HTTP, virtual clock)', () => {
  it('fallback after 3 failures, backoff 10 s → 300 s, back after 5 successes, distinct failure kinds, flapping', async () => {
    const script: FlakyStep[] = [
      ok(100), // 1
      'reset', // 2 network
      503, // 3 server
      401, // 4 auth → failing
      500, // 5
      503, // 6
      'reset', // 7
      502, // 8
      503, // 9
      503, // 10
      ...Array.from({ length: 5 }, (_, i) => ok(200 + i)), // 11-15 → healthy
      { status: 429, retryAfter: 60 }, // 16 rate limit
      ok(300), // 17
      ...times(3, 503), // 18-20 → failing
      ...times(5, ok(400)), // 21-25 → healthy
      ...times(3, 'reset'), // 26-28 → failing, fourth change in 15 min: flapping
    ];
    const t = await setUp(script);
    const realStart = performance.now();
    await t.runChecks(script.length);
    const realMs = performance.now() - realStart;
    console.log(
      `stream-monitor e2e: ${script.length} checks over ${t.clock.now() / 1000} virtual s in ${realMs.toFixed(0)} ms real time`,
    );

    const gaps = t.checks.slice(1).map((c, i) => (c.at - t.checks[i]!.at) / 1000);
    expect(gaps).toEqual([
      30, 30, 30, 10, 20, 40, 80, 160, 300, 300, 30, 30, 30, 30, 30, 60, 30, 30, 30, 10, 30, 30, 30,
      30, 30, 30, 30,
    ]);
    expect(t.server.requests).toHaveLength(script.length);

    // Mode: failing from the 3rd consecutive failure, back after the 5th consecutive success.
    const modes = t.checks.map((c) => c.mode[0]).join('');
    expect(modes).toBe(`hhh${'f'.repeat(11)}hhhhhfffffhhhf`);
    expect(t.modeChanges.map((c) => `${c.from}→${c.to}`)).toEqual([
      'healthy→failing',
      'failing→healthy',
      'healthy→failing',
      'failing→healthy',
      'healthy→failing',
    ]);
    expect(t.modeChanges[0]!.fault?.category).toBe('auth');

    // The screen: live, fallback from the third failure, live again after five successes.
    expect(t.checks[0]!.screen).toBe('LIVE on air "Launch", 100 viewers');
    expect(t.checks[2]!.screen).toMatch(/^LIVE .* check failed: server error \(HTTP 503\)/);
    expect(t.checks[3]!.screen).toMatch(
      /^FALLBACK \(last known: on air "Launch", 100 viewers\) — auth error \(HTTP 401\).*next check in 10 s$/,
    );
    expect(t.checks[13]!.screen).toBe(
      'FALLBACK (now: on air "Launch", 203 viewers) — recovering: 4/5 successes',
    );
    expect(t.checks[14]!.screen).toBe('LIVE on air "Launch", 204 viewers');

    // Each kind of failure is reported in its own words.
    expect(t.checks[1]!.screen).toContain(
      'network error: cannot reach the status API (ECONNRESET)',
    );
    expect(t.checks[2]!.screen).toContain('server error (HTTP 503)');
    expect(t.checks[3]!.screen).toContain('auth error (HTTP 401)');
    expect(t.checks[15]!.screen).toContain('rate limited (HTTP 429): asked to wait 60 s');
    expect(t.app.monitor.stats().failuresByCategory).toEqual({
      network: 5,
      unavailable: 9,
      auth: 1,
      rate_limit: 1,
    });

    // Flapping: the fourth mode change within 15 minutes.
    expect(t.flapping).toEqual([
      { name: 'status-api', unstable: true, modeChanges: 4, windowMs: 900_000 },
    ]);
    expect(t.lines).toContain('! status API is flapping: 4 mode changes in 15 min');

    await t.app.stop();
    expect(t.clock.pendingTimers).toBe(0);
    // Generous: the target is well under a second; CI runs many suites at once on 2 cores.
    expect(realMs).toBeLessThan(15_000);
  });

  it('a check that hangs fails as a timeout on the virtual clock; a closed port is a network failure', async () => {
    const t = await setUp([ok(1), 'hang']);
    await t.runChecks(1);
    await t.clock.next(); // check 2 starts and hangs
    await t.server.waitForRequests(2);
    expect(t.clock.nextTimerAt).toBe(t.checks[0]!.at + 30_000 + 10_000);
    await t.clock.next(); // the 10 s request timeout fires
    await t.checkDone(2);
    expect(t.app.monitor.lastFault?.category).toBe('timeout');
    await t.app.stop();
    expect(t.clock.pendingTimers).toBe(0);

    // Nothing listens on a closed server's port any more.
    const closedUrl = `${t.server.url}/status`;
    await t.server.close();
    server = undefined;
    const clock = new VirtualClock();
    app = startStreamMonitor({ statusUrl: closedUrl, clock });
    await new Promise<void>((resolve) => app!.monitor.events.once('result', () => resolve()));
    expect(app.monitor.lastFault?.category).toBe('network');
    expect(app.display()).toMatch(
      /network error: cannot reach the status API \((ECONNREFUSED|UND_ERR_SOCKET|ECONNRESET)\)/,
    );
  });
});
