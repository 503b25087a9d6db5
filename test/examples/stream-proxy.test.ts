import { afterEach, describe, expect, it } from 'vitest';
import { scaledClock } from '../../examples/stream-monitor/scaled-clock.js';
import {
  type StreamProxy,
  startStreamProxy,
  type StreamProxyOptions,
} from '../../examples/stream-proxy/proxy.js';
import {
  type FlakyServer,
  type FlakyStep,
  flakyServer,
  times,
} from '../../src/testing/flaky-server.js';

/**
 * End to end over loopback: client → proxy (node:http) → upstream (FlakyServer). The proxy runs
 * on a clock 100× faster than real time, so its 1 s / 2 s / 4 s retry waits take 70 ms; the
 * waits it asked for are recorded in pretend milliseconds.
 */
let upstream: FlakyServer | undefined;
let proxy: StreamProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await upstream?.close();
  proxy = undefined;
  upstream = undefined;
});

const SPEED = 100;
const HOUR = 3_600_000;

async function setUp(
  routes: Record<string, FlakyStep[]>,
  options: Partial<StreamProxyOptions> = {},
) {
  const waits: number[] = [];
  const clock = scaledClock(SPEED, (ms) => waits.push(ms));
  upstream = await flakyServer({ routes });
  const logs: string[] = [];
  // A long upstream deadline by default, so a slow loopback answer on a loaded machine never times out.
  proxy = await startStreamProxy({
    upstream: upstream.url,
    clock,
    log: (l) => logs.push(l),
    staleIfErrorMs: 24 * HOUR,
    upstreamTimeoutMs: HOUR,
    ...options,
  });
  return { waits, clock, logs, upstream, proxy };
}

/** A resolver answer for a track: its media URL with a signature, valid for `validMs` (pretend time). */
function resolved(
  base: () => string,
  clock: { wallTime(): number },
  track: string,
  sig: string,
  validMs = HOUR,
): FlakyStep {
  return {
    body: { url: `${base()}/media/${track}?sig=${sig}`, expiresAt: clock.wallTime() + validMs },
  };
}

async function get(url: string, signal?: AbortSignal) {
  const res = await fetch(url, signal ? { signal } : {});
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe('examples/stream-proxy (e2e over loopback)', () => {
  it('streams through a resolved URL, retrying 503 / reset after 1 s, 2 s, 4 s', async () => {
    const t = await setUp({ '/media/*': [503, 'reset', 503, { body: 'chunk-1 chunk-2' }] });
    t.upstream.script(
      '/resolve/t1',
      resolved(() => t.upstream.url, t.clock, 't1', 'v1'),
    );
    const res = await get(`${t.proxy.url}/stream/t1`);
    expect(res).toMatchObject({ status: 200, body: 'chunk-1 chunk-2' });
    expect(t.waits).toEqual([1_000, 2_000, 4_000]);
    expect(t.upstream.requestsTo('/media/t1').map((r) => r.answer)).toEqual([
      '503',
      'reset',
      '503',
      '200',
    ]);
    expect(t.proxy.retry.stats()).toMatchObject({ retries: 3, successes: 1 });
  });

  it('an upstream that does not answer times out and is retried', async () => {
    // 2 pretend minutes = 1.2 s real: room for the second attempt's real answer.
    const t = await setUp(
      { '/media/*': ['hang', { body: 'second try' }] },
      { upstreamTimeoutMs: 120_000 },
    );
    t.upstream.script(
      '/resolve/t1',
      resolved(() => t.upstream.url, t.clock, 't1', 'v1'),
    );
    const res = await get(`${t.proxy.url}/stream/t1`);
    expect(res).toMatchObject({ status: 200, body: 'second try' });
    expect(t.waits).toEqual([1_000]);
    expect(t.upstream.requestsTo('/media/t1').map((r) => r.answer)).toEqual(['hang', '200']);
    expect(t.logs[0]).toMatch(/^upstream attempt 1 failed \(.*120000 ms.*\); retrying in 1000 ms$/);
  });

  it('gives up after 4 attempts with 502', async () => {
    const t = await setUp({ '/media/*': times(5, 503) });
    t.upstream.script(
      '/resolve/t1',
      resolved(() => t.upstream.url, t.clock, 't1', 'v1'),
    );
    const res = await get(`${t.proxy.url}/stream/t1`);
    expect(res.status).toBe(502);
    expect(res.body).toContain('Gave up after 4 attempts');
    expect(t.waits).toEqual([1_000, 2_000, 4_000]);
    expect(t.upstream.requestsTo('/media/t1')).toHaveLength(4);
  });

  it.each([403, 404, 410])('never retries %i: the client gets it at once', async (status) => {
    const t = await setUp({ '/media/*': [status, { body: 'never reached' }] });
    t.upstream.script(
      '/resolve/t1',
      resolved(() => t.upstream.url, t.clock, 't1', 'v1'),
    );
    const res = await get(`${t.proxy.url}/stream/t1`);
    expect(res.status).toBe(status);
    // Typed as the system does: a missing track is TrackNotFoundError, a refused URL a StreamError.
    const error = (JSON.parse(res.body) as { error: string }).error;
    expect(error).toBe(
      status === 403
        ? 'upstream answered HTTP 403'
        : `track "t1" ${status === 410 ? 'is gone' : 'not found'} upstream`,
    );
    expect(t.waits).toEqual([]);
    expect(t.upstream.requestsTo('/media/t1')).toHaveLength(1);
  });

  it('one resolver call serves many requests; an "expired" 403 refreshes the URL and uses the new one', async () => {
    const t = await setUp({
      '/media/*': [
        { body: 'a' },
        { body: 'b' },
        { status: 403, headers: { 'x-url-expired': '1' } },
        { body: 'c' },
      ],
    });
    const base = () => t.upstream.url;
    t.upstream.script(
      '/resolve/t1',
      resolved(base, t.clock, 't1', 'v1'),
      resolved(base, t.clock, 't1', 'v2'),
    );
    expect((await get(`${t.proxy.url}/stream/t1`)).body).toBe('a');
    expect((await get(`${t.proxy.url}/stream/t1`)).body).toBe('b');
    expect((await get(`${t.proxy.url}/stream/t1`)).body).toBe('c');
    expect(t.upstream.requestsTo('/resolve/t1')).toHaveLength(2);
    expect(t.upstream.requestsTo('/media/t1').map((r) => r.query.get('sig'))).toEqual([
      'v1',
      'v1',
      'v1',
      'v2',
    ]);
    expect(t.waits).toEqual([]);
    expect(t.logs).toContain('refreshed the URL of t1');
  });

  it('refreshes ahead of expiry and keeps serving the old URL when the refresh fails', async () => {
    const t = await setUp({ '/media/*': [{ body: 'x' }, { body: 'y' }, { body: 'z' }] });
    // Valid for 30 pretend seconds: inside the 60 s refresh-ahead window from the start.
    t.upstream.script(
      '/resolve/t1',
      resolved(() => t.upstream.url, t.clock, 't1', 'old', 30_000),
      503,
    );
    t.upstream.respond('/resolve/t1', 503);
    const failed: { servingStale: boolean }[] = [];
    t.proxy.urls.events.on('refreshFailed', (e) => failed.push({ servingStale: e.servingStale }));
    expect((await get(`${t.proxy.url}/stream/t1`)).body).toBe('x');
    expect((await get(`${t.proxy.url}/stream/t1`)).body).toBe('y');
    // The second request started a background refresh; wait for it to fail.
    if (failed.length === 0)
      await new Promise<void>((resolve) =>
        t.proxy.urls.events.once('refreshFailed', () => resolve()),
      );
    expect((await get(`${t.proxy.url}/stream/t1`)).body).toBe('z');
    expect(t.upstream.requestsTo('/media/t1').map((r) => r.query.get('sig'))).toEqual([
      'old',
      'old',
      'old',
    ]);
    expect(t.upstream.requestsTo('/resolve/t1').length).toBeGreaterThanOrEqual(2);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.every((f) => f.servingStale)).toBe(true);
    expect(t.logs.some((l) => l.includes('keeping the old URL'))).toBe(true);
  });

  it('by default keeps serving an old URL however long ago it expired when the resolver fails (URLRefreshError only without one)', async () => {
    const base = () => t.upstream.url;
    // No staleIfErrorMs given: the default. The first URL expired two days (pretend) ago.
    const t = await setUp(
      { '/media/*': [{ body: 'old-1' }, { body: 'old-2' }] },
      { staleIfErrorMs: undefined },
    );
    t.upstream.script('/resolve/t1', resolved(base, t.clock, 't1', 'old', -48 * HOUR));
    t.upstream.respond('/resolve/t1', 503);
    expect((await get(`${t.proxy.url}/stream/t1`)).body).toBe('old-1');
    expect((await get(`${t.proxy.url}/stream/t1`)).body).toBe('old-2');
    expect(t.upstream.requestsTo('/media/t1').map((r) => r.query.get('sig'))).toEqual([
      'old',
      'old',
    ]);
    expect(t.upstream.requestsTo('/resolve/t1').length).toBeGreaterThanOrEqual(2);
    // A track never resolved has nothing to fall back on: 502 (URLRefreshError); a 404 from the resolver: 404 (TrackNotFoundError).
    t.upstream.respond('/resolve/t2', 503).respond('/resolve/t3', 404);
    expect(await get(`${t.proxy.url}/stream/t2`)).toMatchObject({
      status: 502,
      body: expect.stringContaining('could not resolve a URL for track'),
    });
    expect(await get(`${t.proxy.url}/stream/t3`)).toMatchObject({
      status: 404,
      body: expect.stringContaining('not found upstream'),
    });
  });

  it('allows 10 concurrent streams by default; the 11th gets 503', async () => {
    const t = await setUp({ '/media/*': times(10, 'hang') }, { upstreamTimeoutMs: 24 * HOUR });
    t.upstream.respond('/resolve/*', (r) =>
      resolved(() => t.upstream.url, t.clock, r.path.split('/').pop()!, 's'),
    );
    const clients = Array.from({ length: 10 }, () => new AbortController());
    const held = clients.map((c, i) =>
      get(`${t.proxy.url}/stream/h${i}`, c.signal).catch((e: unknown) => e),
    );
    await t.upstream.waitForRequests(20);
    const rejected = await get(`${t.proxy.url}/stream/eleventh`);
    expect(rejected).toMatchObject({
      status: 503,
      body: expect.stringContaining('too many streams (10 max)'),
    });
    for (const c of clients) c.abort();
    await Promise.all(held);
  });

  it('answers 503 beyond the bulkhead cap and frees a slot when a client leaves', async () => {
    const t = await setUp(
      { '/media/*': ['hang', 'hang', { body: 'free again' }] },
      { maxStreams: 2, upstreamTimeoutMs: 24 * HOUR },
    );
    t.upstream.respond('/resolve/*', (r) =>
      resolved(() => t.upstream.url, t.clock, r.path.split('/').pop()!, 's'),
    );
    const clients = [new AbortController(), new AbortController()];
    const held = clients.map((c, i) =>
      get(`${t.proxy.url}/stream/held${i}`, c.signal).catch((e: unknown) => e),
    );
    // Both streams are open once the upstream has seen both media requests.
    await new Promise<void>((resolve) => {
      const check = () =>
        t.upstream.requestsTo('/media/held0').length +
          t.upstream.requestsTo('/media/held1').length ===
          2 && resolve();
      t.upstream.events.on('request', check);
      check();
    });
    const rejected = await get(`${t.proxy.url}/stream/third`);
    expect(rejected.status).toBe(503);
    expect(rejected.headers.get('retry-after')).toBe('1');
    expect(rejected.body).toContain('too many streams (2 max)');
    expect(t.proxy.bulkhead.stats()).toMatchObject({ active: 2, rejections: 1 });
    clients[0]!.abort();
    await held[0];
    // The proxy notices the client leaving and releases the slot; wait for it on the bulkhead's own state.
    const deadline = performance.now() + 10_000;
    while (t.proxy.bulkhead.stats().active !== 1 && performance.now() < deadline)
      await new Promise((resolve) => setImmediate(resolve));
    expect(t.proxy.bulkhead.stats().active).toBe(1);
    const after = await get(`${t.proxy.url}/stream/fourth`);
    expect(after).toMatchObject({ status: 200, body: 'free again' });
    clients[1]!.abort();
    await held[1];
  });
});
