/**
 * Archive downloader demo:  npx tsx examples/archive-downloader/main.ts [--speed <n>] [--out <dir>]
 *
 * Starts two local archive mirrors: `mirror-a` mostly works (one 429 with Retry-After, a few
 * 503s and resets, a 404 and a 410, and two items through an "SDK" that throws plain Errors:
 * "Quota exceeded …" once, and "Unauthorized …"), `mirror-b` is down (503 or reset on every
 * request; one of its items is tried only twice, a per-call override). It downloads 12 items
 * across both, on a clock 100× faster than real time so the backoffs and the 60 s breaker pauses
 * take seconds, and prints the report of every failure. Ctrl-C stops it.
 *
 * Exit code: 0 every item was downloaded; 1 some failed — expected here: 7 of the 12 fail by
 * design (a3 404, a5 410, a8 unauthorized, and mirror-b's 4 items), and the last line says so.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { lifecycle } from '../../src/lifecycle/index.js';
import { flakyServer } from '../../src/testing/flaky-server.js';
import { scaledClock } from '../stream-monitor/scaled-clock.js';
import { type ArchiveItem, startDownload } from './downloader.js';
import { formatReport } from './report.js';

const { values } = parseArgs({ options: { speed: { type: 'string' }, out: { type: 'string' } } });
const speed = Number(values.speed ?? 100);
const out = values.out ?? mkdtempSync(join(tmpdir(), 'archive-'));
mkdirSync(out, { recursive: true });

const file = (n: number) => ({ body: `archive item ${n}\n`.repeat(50) });
const mirrorA = await flakyServer({
  routes: {
    '/files/a1': [{ status: 429, retryAfter: 2 }, file(1)],
    '/files/a2': [503, 'reset', file(2)],
    '/files/a4': ['reset', file(4)],
    '/files/a6': [502, 503, file(6)],
    // Through the "SDK": plain Errors with only a message.
    '/files/a7': [
      {
        status: 403,
        body: { message: 'Quota exceeded for quota metric "Downloads" of service archive' },
      },
      file(7),
    ],
  },
  fallback: (r) => file(Number(r.path.replace(/\D/g, ''))),
});
mirrorA
  .respond('/files/a3', 404)
  .respond('/files/a5', 410)
  .respond('/files/a8', { status: 401, body: { message: 'Unauthorized: API key not valid' } });
const mirrorB = await flakyServer({ fallback: (r) => (r.n % 2 === 0 ? 'reset' : 503) });

const lc = lifecycle({ graceMs: 2_000 });
lc.onCleanup('mirrors', () => Promise.all([mirrorA.close(), mirrorB.close()]));

const items: ArchiveItem[] = [
  ...Array.from(
    { length: 8 },
    (_, i): ArchiveItem => ({
      id: `a${i + 1}`,
      upstream: 'mirror-a',
      path: `/files/a${i + 1}`,
      ...(i >= 6 ? { via: 'sdk' } : {}),
    }),
  ),
  ...Array.from({ length: 3 }, (_, i) => ({
    id: `b${i + 1}`,
    upstream: 'mirror-b',
    path: `/files/b${i + 1}`,
  })),
  // A per-call override: this one is tried twice, not five times (policy.with({ maxAttempts: 2 })).
  { id: 'b4', upstream: 'mirror-b', path: '/files/b4', retry: { maxAttempts: 2 } },
];
const clock = scaledClock(speed);
const started = clock.now();
const stamp = () => `[t+${String(Math.round((clock.now() - started) / 1000)).padStart(4)} s]`;
console.log(`downloading ${items.length} items into ${out} (time ×${speed})`);
const run = startDownload({
  upstreams: { 'mirror-a': mirrorA.url, 'mirror-b': mirrorB.url },
  items,
  clock,
  signal: lc.stopping,
  save: (item, body) => writeFileSync(join(out, item.id), body),
  log: (line) => console.log(`${stamp()} ${line}`),
});
const report = await lc.track(run.done, 'download');
console.log('');
for (const line of formatReport(report)) console.log(line);
const code = report.failures.length === 0 ? 0 : 1;
console.log(
  code === 0
    ? 'Exit code 0: every item was downloaded.'
    : `Exit code 1: ${report.failures.length} of ${items.length} items failed. In this demo that is expected: a3 (404), a5 (410) and a8 (unauthorized) cannot succeed and mirror-b is down by design.`,
);
await lc.shutdown('download finished', code);
