import { afterEach, describe, expect, it } from 'vitest';
import {
  type ArchiveItem,
  type DownloadReport,
  startDownload,
} from '../../examples/archive-downloader/downloader.js';
import { formatReport } from '../../examples/archive-downloader/report.js';
import { seededRandom } from '../../src/recovery/random.js';
import { type FlakyServer, flakyServer } from '../../src/testing/flaky-server.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/**
 * End to end: the downloader on a VirtualClock, talking real HTTP over loopback to two
 * FlakyServers. The test moves virtual time only while no request is in flight, so every wait
 * (backoff, Retry-After, an open breaker) passes at once and nothing times out by accident.
 */
const servers: FlakyServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A fetch that counts requests in flight (body included) and wakes the driver when none is left. */
function countingFetch() {
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const wrapped = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    inFlight++;
    try {
      const res = await fetch(input, init);
      const body = await res.arrayBuffer();
      return new Response(res.status === 204 ? null : body, {
        status: res.status,
        headers: res.headers,
      });
    } finally {
      inFlight--;
      wake?.();
    }
  };
  const idle = async (): Promise<void> => {
    // Idle = nothing in flight after the microtasks queued by the last answer have run.
    for (;;) {
      if (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (inFlight === 0) return;
    }
  };
  return { fetch: wrapped as typeof fetch, idle };
}

/** Runs a download to the end: wait for the network to go quiet, then jump to the next timer. */
async function drive(
  clock: VirtualClock,
  idle: () => Promise<void>,
  done: Promise<DownloadReport>,
): Promise<DownloadReport> {
  let finished = false;
  const result = done.finally(() => {
    finished = true;
  });
  for (let steps = 0; !finished; steps++) {
    if (steps > 10_000) throw new Error('the download did not finish within 10 000 timer steps');
    await idle();
    if (finished) break;
    if (clock.pendingTimers === 0) {
      // Not finished, nothing in flight, no timer: only microtasks can be left; let them run.
      await new Promise<void>((resolve) => setImmediate(resolve));
      continue;
    }
    await clock.next();
  }
  return result;
}

describe('examples/archive-downloader (e2e: real HTTP, virtual clock)', () => {
  it('retries transient faults, waits 3× on quota, never retries 404/410, breaks only the bad upstream, reports every failure', async () => {
    const good = await flakyServer({
      routes: {
        '/files/a1': [{ status: 429, retryAfter: 2 }, { body: 'alpha-1' }],
        '/files/a2': [503, 'reset', { body: 'alpha-2' }],
        '/files/a3': [404],
        '/files/a4': [{ body: 'alpha-4' }],
        '/files/a5': [410],
        '/files/a6': [{ body: 'alpha-6' }],
      },
    });
    servers.push(good);
    good.respond('/files/a3', 404).respond('/files/a5', 410);
    // The bad mirror is down: every request is a 503 or a reset.
    const bad = await flakyServer({ fallback: (r) => (r.n % 2 === 0 ? 'reset' : 503) });
    servers.push(bad);

    const items: ArchiveItem[] = [
      ...['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((id) => ({
        id,
        upstream: 'good',
        path: `/files/${id}`,
      })),
      ...['b1', 'b2', 'b3', 'b4', 'b5'].map((id) => ({
        id,
        upstream: 'bad',
        path: `/files/${id}`,
      })),
    ];
    const clock = new VirtualClock();
    const net = countingFetch();
    const logs: string[] = [];
    const saved = new Map<string, string>();
    const run = startDownload({
      upstreams: { good: good.url, bad: bad.url },
      items,
      clock,
      random: seededRandom(7),
      fetch: net.fetch,
      log: (line) => logs.push(`${clock.now()} ${line}`),
      save: (item, body) => {
        saved.set(item.id, Buffer.from(body).toString());
      },
    });
    const badOpens: number[] = [];
    run.guards.get('bad')!.breaker.events.on('stateChange', (e) => {
      if (e.to === 'open') badOpens.push(clock.now());
    });
    const report = await drive(clock, net.idle, run.done);

    // The good upstream kept working while the bad one was broken.
    expect([...saved]).toEqual([
      ['a1', 'alpha-1'],
      ['a2', 'alpha-2'],
      ['a4', 'alpha-4'],
      ['a6', 'alpha-6'],
    ]);
    expect(report.upstreams.good).toMatchObject({
      downloaded: 4,
      failed: 2,
      breakerOpened: 0,
      breakerState: 'closed',
    });
    expect(report.upstreams.bad).toMatchObject({ downloaded: 0, failed: 5 });
    expect(report.upstreams.bad!.breakerOpened).toBeGreaterThanOrEqual(1);
    expect(badOpens.length).toBe(report.upstreams.bad!.breakerOpened);
    // ...and it opened (within the first 3 s: two retries of at most 1 s and 2 s) before the good
    // mirror's downloads were done (a1 alone waits 6 s for its quota).
    const a6At = Number(logs.find((l) => l.endsWith(' a6: 7 bytes'))?.split(' ')[0]);
    expect(badOpens[0]).toBeLessThanOrEqual(3_000);
    expect(a6At).toBeGreaterThan(badOpens[0]!);

    // Permanent errors: requested exactly once, reported with their status and suggestions.
    expect(good.requestsTo('/files/a3')).toHaveLength(1);
    expect(good.requestsTo('/files/a5')).toHaveLength(1);
    // Transient ones: retried until they worked.
    expect(good.requestsTo('/files/a1').map((r) => r.answer)).toEqual(['429', '200']);
    expect(good.requestsTo('/files/a2').map((r) => r.answer)).toEqual(['503', 'reset', '200']);
    // Quota waits 3× the server's Retry-After (2 s) — the first item, so the success rate is still 1.
    expect(logs).toContain('0 a1: rate_limit (429): pausing for 6 s (the server asked for 2 s)');
    // Waits that come from the open breaker are not the server's.
    expect(logs.some((l) => l.includes('when the circuit breaker lets calls through again'))).toBe(
      true,
    );
    expect(
      logs.filter((l) => l.includes('circuit breaker')).every((l) => !l.includes('server asked')),
    ).toBe(true);

    const failures = new Map(report.failures.map((f) => [f.item, f]));
    expect(report.failures.map((f) => f.item)).toEqual(['a3', 'a5', 'b1', 'b2', 'b3', 'b4', 'b5']);
    expect(failures.get('a3')).toMatchObject({
      upstream: 'good',
      category: 'permanent',
      status: 404,
      requests: 1,
    });
    expect(failures.get('a5')).toMatchObject({
      upstream: 'good',
      category: 'permanent',
      status: 410,
      requests: 1,
    });
    for (const f of report.failures) {
      expect(f.message.length).toBeGreaterThan(0);
      expect(f.suggestions.length).toBeGreaterThan(0);
    }
    for (const id of ['b1', 'b2', 'b3', 'b4', 'b5']) {
      const f = failures.get(id)!;
      expect(['unavailable', 'network']).toContain(f.category);
      expect(f.message).toMatch(/^Gave up after \d+ attempts/);
      // At most the plan's 5 attempts reached the server; the breaker and the throttle refused the rest.
      expect(f.requests).toBeLessThanOrEqual(5);
      expect(bad.requestsTo(`/files/${id}`)).toHaveLength(f.requests);
    }
    // The breaker saved requests: fewer reached the bad mirror than 5 items × 5 attempts.
    expect(bad.requests.length).toBeLessThan(25);
    expect(report.byCategory.permanent).toBe(2);
    expect((report.byCategory.unavailable ?? 0) + (report.byCategory.network ?? 0)).toBe(5);

    // The adaptive strategy slowed the bad upstream down, not the good one.
    expect(report.upstreams.bad!.delayFactor).toBeGreaterThan(report.upstreams.good!.delayFactor);
    expect(report.upstreams.bad!.successRate).toBe(0);

    // The success rate is the run's: 4 of the 9 requests to the good mirror succeeded (not the throttle's emptied window).
    expect(report.upstreams.good).toMatchObject({ requests: 9, succeededRequests: 4 });
    const text = formatReport(report).join('\n');
    expect(text).toContain('downloaded 4 item(s), 7 failed');
    expect(text).toContain('success rate 44 % (4 of 9 requests)');
    expect(text).toMatch(/✗ a3 \(good\) permanent 404 after 1 request\(s\)/);
  });

  it('retry delays stretch with the upstream delay factor', async () => {
    // Every item fails once with a 503, then succeeds; items 1-3 are 404s that lower the success rate.
    const server = await flakyServer({
      routes: {
        '/x/1': [404],
        '/x/2': [404],
        '/x/3': [404],
        '/x/4': [{ status: 503, retryAfter: 1 }, { body: 'four' }],
      },
    });
    servers.push(server);
    const clock = new VirtualClock();
    const net = countingFetch();
    const logs: string[] = [];
    const run = startDownload({
      upstreams: { u: server.url },
      items: [1, 2, 3, 4].map((n) => ({ id: `i${n}`, upstream: 'u', path: `/x/${n}` })),
      clock,
      // Jitter pinned to its top: the backoff's first delay is its full 1 s.
      random: () => 0.999_999,
      fetch: net.fetch,
      log: (line) => logs.push(line),
    });
    const report = await drive(clock, net.idle, run.done);
    expect(report.failures.map((f) => f.item)).toEqual(['i1', 'i2', 'i3']);
    // 3 of 3 calls failed before i4 started: success rate 0, delays × the maximum (10): 1 s → 10 s.
    expect(logs).toContain('i4: unavailable (503): retry 2/5 in 10 s (the server asked for 1 s)');
  });

  it('an SDK that throws plain Errors: "Quota exceeded" pauses and is retried, "Unauthorized" is not; a per-call override tries twice', async () => {
    const server = await flakyServer({
      routes: {
        '/q': [
          { status: 403, body: { message: 'Quota exceeded for quota metric "Downloads"' } },
          { body: 'quota-ok' },
        ],
        '/u': [{ status: 401, body: { message: 'Unauthorized: API key not valid' } }],
        '/o': [503, 503, 503, { body: 'late' }],
      },
    });
    servers.push(server);
    const clock = new VirtualClock();
    const net = countingFetch();
    const logs: string[] = [];
    const run = startDownload({
      upstreams: { u: server.url },
      items: [
        { id: 'quota', upstream: 'u', path: '/q', via: 'sdk' },
        { id: 'auth', upstream: 'u', path: '/u', via: 'sdk' },
        { id: 'once', upstream: 'u', path: '/o', retry: { maxAttempts: 2 } },
      ],
      clock,
      random: seededRandom(3),
      fetch: net.fetch,
      breakerFailures: 10,
      log: (line) => logs.push(line),
    });
    const retries: string[] = [];
    run.guards
      .get('u')!
      .retry.events.on('retry', (e) => retries.push(String(e.operation?.attributes?.item)));
    const report = await drive(clock, net.idle, run.done);
    // The message classifier: quota → rate_limit → a pause (no Retry-After: the plan's pause backoff, × 3), then success.
    expect(server.requestsTo('/q')).toHaveLength(2);
    expect(logs.some((l) => /^quota: rate_limit: pausing for /.test(l))).toBe(true);
    // Unauthorized → auth → not retried.
    expect(server.requestsTo('/u')).toHaveLength(1);
    const failures = new Map(report.failures.map((f) => [f.item, f]));
    expect(failures.get('auth')).toMatchObject({
      category: 'auth',
      requests: 1,
      message: 'Unauthorized: API key not valid',
    });
    // The override: 2 attempts for this call, though the plan allows 5; the upstream's events still saw its retry.
    expect(server.requestsTo('/o')).toHaveLength(2);
    expect(failures.get('once')).toMatchObject({ category: 'unavailable', requests: 2 });
    expect(retries).toEqual(['quota', 'once']);
  });

  it('an item naming an unknown upstream is refused at the start with a ConfigError', () => {
    expect(() =>
      startDownload({
        upstreams: { a: 'http://127.0.0.1:1' },
        items: [{ id: 'x', upstream: 'b', path: '/x' }],
      }),
    ).toThrow(/Invalid option items\[0\]\.upstream: "b" \(expected one of a\)/);
  });
});
