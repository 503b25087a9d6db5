/**
 * Streaming proxy demo:  npx tsx examples/stream-proxy/main.ts [--upstream <url>] [--port <n>] [--speed <n>] [--max-streams 10]
 *
 * Without --upstream it starts a local flaky upstream (resolver + media), runs the proxy in
 * front of it, plays a few client requests that show every behaviour (including --max-streams
 * long streams and one more that gets 503), and exits 0. With --upstream it serves until Ctrl-C
 * or SIGTERM (graceful shutdown through `lifecycle`; exit 130 / 143).
 */
import { parseArgs } from 'node:util';
import { lifecycle } from '../../src/lifecycle/index.js';
import { type FlakyStep, flakyServer, times } from '../../src/testing/flaky-server.js';
import { scaledClock } from '../stream-monitor/scaled-clock.js';
import { startStreamProxy } from './proxy.js';

const { values } = parseArgs({
  options: {
    upstream: { type: 'string' },
    port: { type: 'string' },
    speed: { type: 'string' },
    'max-streams': { type: 'string', default: '10' },
  },
});
const maxStreams = Number(values['max-streams']);
if (!Number.isSafeInteger(maxStreams) || maxStreams < 1)
  throw new Error(`--max-streams must be a whole number >= 1, got ${values['max-streams']}`);
const speed = Number(values.speed ?? (values.upstream ? 1 : 10));
const clock = scaledClock(speed);
const lc = lifecycle({ graceMs: 5_000 });

const upstream = values.upstream
  ? undefined
  : await flakyServer({
      routes: {
        '/media/*': [
          { body: 'intro-bytes' }, // 1. plain stream
          503,
          'reset',
          { body: 'after-retries' }, // 2. retried after 1 s and 2 s
          404, // 3. not retried
          { status: 403, headers: { 'x-url-expired': '1' } },
          { body: 'fresh-url-bytes' }, // 4. refresh on expiry
          ...times(maxStreams, 'hang'), // 5. long streams fill every slot...
        ],
      },
    });
if (upstream) {
  let n = 0;
  // Each resolve hands out a new signature, valid for 10 minutes.
  upstream.respond(
    '/resolve/*',
    (r): FlakyStep => ({
      body: {
        url: `${upstream.url}/media${r.path.slice('/resolve'.length)}?sig=${++n}`,
        expiresAt: clock.wallTime() + 600_000,
      },
    }),
  );
  lc.onCleanup('upstream', () => upstream.close());
}

const proxy = await startStreamProxy({
  upstream: values.upstream ?? upstream!.url,
  clock,
  maxStreams,
  ...(values.port ? { port: Number(values.port) } : {}),
  log: (line) => console.log(`  proxy: ${line}`),
});
lc.onCleanup('proxy', () => proxy.close());
console.log(`proxy listening on ${proxy.url} (GET /stream/<track>), time ×${speed}`);

if (upstream) {
  const show = async (label: string, track: string, signal?: AbortSignal) => {
    const res = await fetch(`${proxy.url}/stream/${track}`, signal ? { signal } : {});
    console.log(`${label}: HTTP ${res.status} ${await res.text()}`);
  };
  await show('1. plain stream', 'intro');
  await show('2. upstream 503, reset, then ok', 'song');
  await show('3. upstream 404 (never retried)', 'missing');
  await show('4. URL expired, refreshed', 'song');
  const leaving = new AbortController();
  const before = upstream.requests.length;
  const held = Array.from({ length: maxStreams }, (_, i) =>
    show(`5.${i + 1} long stream`, `live-${i + 1}`, leaving.signal).catch(() => {}),
  );
  await upstream.waitForRequests(before + 2 * maxStreams); // a resolve and a media request each
  console.log(`5. ${maxStreams} long streams are playing (the cap, --max-streams)`);
  await show(`5. stream ${maxStreams + 1}`, 'one-too-many');
  leaving.abort();
  await Promise.all(held);
  console.log(
    `5. the long streams ended when their clients left; rejected so far: ${proxy.bulkhead.stats().rejections}`,
  );
  await lc.shutdown('demo finished');
}
