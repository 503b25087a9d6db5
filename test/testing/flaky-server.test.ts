import { afterEach, describe, expect, it } from 'vitest';
import { classify } from '../../src/faults/classify.js';
import { ConfigError } from '../../src/faults/errors.js';
import { type FlakyServer, flakyServer, times } from '../../src/testing/flaky-server.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

let server: FlakyServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function fetchFault(url: string, init?: RequestInit) {
  try {
    const res = await fetch(url, init);
    return { status: res.status, headers: res.headers, body: await res.text() };
  } catch (error) {
    return { fault: classify(error) };
  }
}

describe('flakyServer', () => {
  it('answers a route script in order, then the fallback', async () => {
    server = await flakyServer({
      routes: {
        '/status': [
          503,
          { status: 429, retryAfter: 30 },
          401,
          { status: 200, body: { live: true } },
        ],
      },
    });
    const got = [];
    for (let i = 0; i < 5; i++) got.push(await fetchFault(`${server.url}/status?i=${i}`));
    expect(got.map((g) => g.status)).toEqual([503, 429, 401, 200, 200]);
    expect(got[1]!.headers?.get('retry-after')).toBe('30');
    expect(JSON.parse(got[3]!.body!)).toEqual({ live: true });
    expect(JSON.parse(got[4]!.body!)).toEqual({ ok: true });
    expect(server.requests.map((r) => r.answer)).toEqual(['503', '429', '401', '200', '200']);
    expect(server.requests[2]!.query.get('i')).toBe('2');
  });

  it('reset gives the client a network fault; hang holds until the client aborts', async () => {
    server = await flakyServer({ routes: { '/x': ['reset', 'hang'] } });
    const reset = await fetchFault(`${server.url}/x`);
    expect(reset.fault?.category).toBe('network');
    const controller = new AbortController();
    const hung = fetchFault(`${server.url}/x`, { signal: controller.signal });
    await server.waitForRequests(2);
    controller.abort();
    expect((await hung).fault?.category).toBe('cancelled');
  });

  it('truncate drops the connection mid-body', async () => {
    server = await flakyServer({
      routes: { '/file': [{ body: 'x'.repeat(10_000), fault: 'truncate' }] },
    });
    const res = await fetch(`${server.url}/file`);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('prefix routes, route defaults, dynamic fallbacks', async () => {
    server = await flakyServer({ fallback: (r) => (r.path === '/gone' ? 410 : 404) });
    server.script('/media/*', ...times(2, 503)).respond('/media/*', { body: 'video-bytes' });
    server.script('/media/special', 403);
    const statuses = [];
    for (const path of ['/media/a', '/media/b', '/media/c', '/media/special', '/gone', '/nothing'])
      statuses.push((await fetchFault(server.url + path)).status);
    expect(statuses).toEqual([503, 503, 200, 403, 410, 404]);
    expect(server.requestsTo('/media/c')[0]!.route).toBe('/media/*');
    expect(server.remaining('/media/*')).toBe(0);
  });

  it('delays run on the given clock; close() ends delayed and hung requests', async () => {
    const clock = new VirtualClock();
    server = await flakyServer({
      clock,
      routes: { '/slow': [{ delayMs: 5_000, body: 'late' }, 'hang'] },
    });
    const slow = fetch(`${server.url}/slow`).then((r) => r.text());
    await server.waitForRequests(1);
    await clock.advance(5_000);
    expect(await slow).toBe('late');
    const hung = fetchFault(`${server.url}/slow`);
    await server.waitForRequests(2);
    await server.close();
    expect((await hung).fault?.category).toBe('network');
    server = undefined;
  });

  it('rejects bad scripts with ConfigError', async () => {
    await expect(flakyServer({ routes: { '/a': [999] } })).rejects.toBeInstanceOf(ConfigError);
    await expect(flakyServer({ routes: { '/a': ['explode' as never] } })).rejects.toBeInstanceOf(
      ConfigError,
    );
    await expect(flakyServer({ routes: { '/a': [{ delayMs: -1 }] } })).rejects.toBeInstanceOf(
      ConfigError,
    );
    await expect(flakyServer({ routes: { a: [200] } })).rejects.toBeInstanceOf(ConfigError);
    await expect(flakyServer({ rutes: {} } as never)).rejects.toBeInstanceOf(ConfigError);
  });
});
