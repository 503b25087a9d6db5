/**
 * Stream monitor demo:  npx tsx examples/stream-monitor/main.ts [--url <status url>] [--speed <n>]
 *
 * Without --url it starts a local flaky status API scripted to fail in every way (network
 * reset, 5xx, 401, 429 with Retry-After), recover, and flap, and runs time 100× faster so
 * the 10 s → 300 s backoff takes seconds. Ctrl-C shuts down gracefully.
 */
import { parseArgs } from 'node:util';
import { lifecycle } from '../../src/lifecycle/index.js';
import { type FlakyStep, flakyServer, times } from '../../src/testing/flaky-server.js';
import { startStreamMonitor } from './monitor.js';
import { scaledClock } from './scaled-clock.js';

const { values } = parseArgs({ options: { url: { type: 'string' }, speed: { type: 'string' } } });
const speed = Number(values.speed ?? (values.url ? 1 : 100));

const ok = (viewers: number): FlakyStep => ({ body: { live: true, title: 'Launch stream', viewers } });
const DEMO_SCRIPT: FlakyStep[] = [
  ok(1200),
  ok(1250),
  'reset', // network
  503, // server
  401, // auth → third failure: fallback
  500,
  { status: 429, retryAfter: 45 }, // rate limit, honoured
  503,
  'reset',
  ...times(3, 502), // backoff reaches its 300 s cap
  ...Array.from({ length: 5 }, (_, i) => ok(900 + i * 10)), // five successes: back live
  ...times(3, 503),
  ...Array.from({ length: 5 }, (_, i) => ok(950 + i)),
  ...times(3, 'reset'), // fourth mode change in the window: flapping
  ...Array.from({ length: 5 }, (_, i) => ok(1000 + i)),
];

const lc = lifecycle({ graceMs: 2_000 });
const server = values.url ? undefined : await flakyServer({ routes: { '/status': DEMO_SCRIPT }, fallback: ok(1100) });
if (server) lc.onCleanup('status server', () => server.close());
const statusUrl = values.url ?? `${server!.url}/status`;

const clock = scaledClock(speed);
const started = clock.now();
const stamp = () => `[t+${String(Math.round((clock.now() - started) / 1000)).padStart(4)} s]`;
console.log(`monitoring ${statusUrl} (time ×${speed})`);

const app = startStreamMonitor({ statusUrl, clock, signal: lc.stopping, render: (line) => console.log(`${stamp()} ${line}`) });
lc.onCleanup('monitor', () => app.stop());

if (server) {
  // The demo ends once the script has played out.
  app.monitor.events.on('modeChange', (e) => {
    if (server.remaining('/status') > 0 || e.to !== 'healthy') return;
    // After this check's line is printed.
    queueMicrotask(() => {
      const s = app.monitor.stats();
      console.log(`demo finished: ${s.checks} checks, failures by category ${JSON.stringify(s.failuresByCategory)}`);
      void lc.shutdown('demo finished');
    });
  });
}
