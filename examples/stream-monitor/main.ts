/**
 * Stream monitor:
 *
 *     npx tsx examples/stream-monitor/main.ts                              # a local flaky API, time ×100
 *     npx tsx examples/stream-monitor/main.ts --url http://host/status    # a real status API, runs until stopped
 *     API_FAIL_IMAGE_PATH=offline.png npx tsx examples/stream-monitor/main.ts --url … --player "ffplay -fs -loop 1 {image}"
 *
 * Without --url it starts a local status API scripted to fail in every way (network reset, 5xx,
 * 401, 429 with Retry-After), recover and flap, runs time 100× faster so the 10 s → 300 s backoff
 * takes seconds, and ends when the script has played out. With --url it monitors until Ctrl-C or
 * SIGTERM (the lifecycle stops the poll and the player). The environment is the system's:
 * CHECK_INTERVAL, API_FAILURE_THRESHOLD, API_STABILITY_THRESHOLD, API_MIN_RETRY_INTERVAL,
 * API_MAX_RETRY_INTERVAL, API_ENABLE_BACKOFF, API_FAIL_IMAGE_PATH, STATUS_API_TOKEN (settings.ts).
 *
 * Exit code: 0 the demo script played out; 130 after Ctrl-C, 143 after SIGTERM (128 + the
 * signal, the shell's convention for "stopped on request"); 1 a cleanup failed.
 */
import { parseArgs } from 'node:util';
import { lifecycle } from '../../src/lifecycle/index.js';
import { type FlakyStep, flakyServer, times } from '../../src/testing/flaky-server.js';
import { type Display, playerDisplay, printDisplay } from './display.js';
import { startStreamMonitor } from './monitor.js';
import { scaledClock } from './scaled-clock.js';
import { monitorSettings } from './settings.js';

const { values } = parseArgs({
  options: { url: { type: 'string' }, speed: { type: 'string' }, player: { type: 'string' } },
});
const speed = Number(values.speed ?? (values.url ? 1 : 100));
const settings = monitorSettings();

const ok = (viewers: number): FlakyStep => ({
  body: { live: true, title: 'Launch stream', viewers },
});
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
const server = values.url
  ? undefined
  : await flakyServer({ routes: { '/status': DEMO_SCRIPT }, fallback: ok(1100) });
if (server) lc.onCleanup('status server', () => server.close());
const statusUrl = values.url ?? `${server!.url}/status`;

const clock = scaledClock(speed);
const started = clock.now();
const stamp = () => `[t+${String(Math.round((clock.now() - started) / 1000)).padStart(4)} s]`;
const write = (line: string) => console.log(`${stamp()} ${line}`);
const display: Display =
  values.player === undefined
    ? printDisplay(write)
    : playerDisplay(values.player, settings.failImagePath, write);
lc.onCleanup('display', () => display.close());
console.log(
  `monitoring ${statusUrl} (time ×${speed}; every ${settings.intervalMs / 1000} s, fallback after ${settings.failureThreshold} failures, ` +
    `back after ${settings.stabilityThreshold} successes, backoff ${settings.backoffEnabled ? 'on' : 'off'})`,
);

const app = startStreamMonitor({
  statusUrl,
  clock,
  signal: lc.stopping,
  render: (line) => display.line(line),
  intervalMs: settings.intervalMs,
  health: {
    failureThreshold: settings.failureThreshold,
    stabilityThreshold: settings.stabilityThreshold,
    failingBackoff: settings.failingBackoff,
  },
  ...(settings.token === undefined ? {} : { token: settings.token }),
  // Monitoring is this process's job: it runs until it is stopped.
  keepAlive: true,
});
lc.onCleanup('monitor', () => app.stop());
app.monitor.events.on('modeChange', (e) =>
  e.to === 'failing' ? display.showFallback() : display.hideFallback(),
);

if (server) {
  // The demo ends once the script has played out.
  app.monitor.events.on('modeChange', (e) => {
    if (server.remaining('/status') > 0 || e.to !== 'healthy') return;
    // After this check's line is printed.
    queueMicrotask(() => {
      const s = app.monitor.stats();
      console.log(
        `demo finished: ${s.checks} checks, failures by category ${JSON.stringify(s.failuresByCategory)}`,
      );
      void lc.shutdown('demo finished');
    });
  });
}
