/**
 * The crawler scenario in one command:
 *
 *     npx tsx examples/crawler/main.ts [--items 500] [--db crawler.db] [--time-scale 0.01] [--timeout-ms 1000] [--json]
 *                                      [--outage-at N] [--credentials-expire-at N] [--rate-limit-header reset|retry-after|none]
 *                                      [--prefix faultline]   (the Valkey key prefix when VALKEY_URL is set)
 *
 * Crawls items from a local flaky API (started here) through a durable queue (a SQLite file, or
 * Valkey/Redis when VALKEY_URL is set): invalid items and gone pages are skipped, rate limits
 * pause the queue until the announced reset, network errors are retried 5 times at 1, 2, 4, 8,
 * 16 s (scaled) and abort the crawl when they run out, bad credentials abort. Ctrl-C (or a
 * crash) keeps the progress; run it again to resume. Decisions are logged with pino to stderr.
 *
 * Environment, as the system reads it: MAX_RETRIES (5), INITIAL_BACKOFF (1.0 s), VALKEY_URL,
 * VALKEY_MAX_CONNECTIONS (10; a RedisStore uses one connection).
 *
 * Exit code: 0 the crawl finished; 1 the plan aborted it (network retries spent, or bad
 * credentials; the checkpoint is saved, run again to resume); 130 stopped by Ctrl-C.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { DurableStore } from '../../src/durable/store.js';
import { lifecycle } from '../../src/lifecycle/lifecycle.js';
import { logDecisions } from '../../src/observe/log/logger.js';
import { formatMs } from '../../src/recovery/plan.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { type ItemsApiSchedule, startItemsApi } from '../../src/demo/api.js';
import { Crawler } from '../../src/demo/crawler.js';
import { buildReport } from '../../src/demo/report.js';
import { crawlerSettings } from './settings.js';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '500' },
    db: { type: 'string', default: 'crawler.db' },
    // The plan waits 1 s, 2 s, 4 s ... and pauses 15 min without a reset header; the example runs it 100× faster.
    'time-scale': { type: 'string', default: '0.01' },
    // Deadline of one request: it ends the API's hangs.
    'timeout-ms': { type: 'string', default: '1000' },
    // Key prefix when VALKEY_URL is set, so several crawls can share one server.
    prefix: { type: 'string', default: 'faultline' },
    'outage-at': { type: 'string' },
    'credentials-expire-at': { type: 'string' },
    'rate-limit-header': { type: 'string', default: 'reset' },
    json: { type: 'boolean', default: false },
  },
});

const settings = crawlerSettings();
const optionalCount = (text: string | undefined) => (text === undefined ? undefined : Number(text));
const header = values['rate-limit-header'] as ItemsApiSchedule['rateLimitHeader'];
if (!['reset', 'retry-after', 'none'].includes(header))
  throw new Error(`--rate-limit-header must be reset, retry-after or none, got ${header}`);
const api = await startItemsApi({
  outageAt: optionalCount(values['outage-at']),
  credentialsExpireAt: optionalCount(values['credentials-expire-at']),
  rateLimitHeader: header,
});
const store: DurableStore =
  settings.valkeyUrl === undefined
    ? new SqliteStore(values.db)
    : new RedisStore({ url: settings.valkeyUrl, prefix: values.prefix });
const crawler = new Crawler({
  store,
  apiUrl: api.url,
  items: Number(values.items),
  timeScale: Number(values['time-scale']),
  requestTimeoutMs: Number(values['timeout-ms']),
  maxRetries: settings.maxRetries,
  initialBackoffMs: settings.initialBackoffMs,
  // After a crash, jobs that were running come back once their lease runs out.
  leaseMs: 2_000,
});

// One log line per decision (retry, pause, dead letter, abort, breaker change) and per checkpoint save.
const logger = pino({ base: null }, pino.destination(2));
logDecisions(crawler.worker, logger, { component: 'worker' });
logDecisions(crawler.breaker, logger, { component: 'breaker', levels: { rejected: 'off' } });
logDecisions(crawler.checkpoints, logger, {
  component: 'checkpoint',
  levels: { checkpointSaved: 'debug' },
});

// The recovery paths a person should see as they happen, on stdout.
const say = (line: string) => {
  if (!values.json) process.stdout.write(`${line}\n`);
};
let done = 0;
crawler.worker.events.on('completed', () => {
  // Printed in --json mode too (the JSON report is the last line): it marks progress for a watcher.
  if (++done % 100 === 0) process.stdout.write(`crawled ${done} items\n`);
});
crawler.worker.events.on('paused', (e) => {
  const announced = e.fault.retryAfterMs !== undefined;
  say(
    announced
      ? `rate limited: pausing the queue ${formatMs(e.delayMs)}, until the reset the API announced (checkpoint saved)`
      : `rate limited without a reset time: pausing the queue ${formatMs(e.delayMs)} (15 min × time scale; checkpoint saved)`,
  );
});
crawler.breaker.events.on('stateChange', (e) => {
  if (e.to === 'open' && e.from === 'closed')
    say('503 burst: circuit opened, requests wait for it instead of spending attempts');
  if (e.to === 'closed' && e.from !== 'closed') say('circuit closed again: the API answers');
});
crawler.worker.events.on('aborted', (e) => say(`aborting the crawl: ${e.decision.reason}`));

// Ctrl-C: stop taking jobs, let running ones finish, write the checkpoint, then close.
const life = lifecycle({ exit: false, graceMs: 5_000 });
life.onCleanup('store', () => store.close());
life.onCleanup('items API', () => api.close());
const report = await life.track(
  crawler.run(life.stopping).then((outcome) => buildReport(crawler, outcome)),
  'crawl',
);
const shutdown = life.state === 'running' ? life.shutdown('crawl over') : life.done;
const { exitCode } = await shutdown;
life.dispose();

const code = report.aborted ? 1 : report.finished ? 0 : exitCode || 130;
if (values.json) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  const t = report.totals;
  console.log(
    `\n${report.finished ? 'Finished' : 'Stopped'}: ${t.completed} completed, ${t.dead} dead-lettered of ${report.items} (run ${report.runs}).`,
  );
  console.log(
    `This run: ${report.thisRun.retried} retries, ${report.thisRun.pauses} pause(s) for ${formatMs(report.thisRun.pausedMs)} in all.`,
  );
  console.table(report.byCategory);
  for (const group of report.deadLetters) {
    console.log(`${group.category} × ${group.count}: e.g. ${group.example.message}`);
    for (const suggestion of group.suggestions) console.log(`  - ${suggestion}`);
  }
  if (report.aborted) {
    console.log(`Aborted (${report.aborted.category}): ${report.aborted.reason}`);
    for (const suggestion of report.aborted.suggestions) console.log(`  - ${suggestion}`);
  }
  if (!report.finished)
    console.log('The checkpoint is saved: run the same command again to resume.');
  console.log(
    `Exit code ${code}: ${code === 0 ? 'the crawl finished' : code === 1 ? 'the plan aborted the crawl (see above)' : 'stopped by a signal'}.`,
  );
}
process.exitCode = code;
