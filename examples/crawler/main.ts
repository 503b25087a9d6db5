/**
 * The crawler scenario in one command:
 *
 *     npx tsx examples/crawler/main.ts [--items 500] [--db crawler.db] [--timeout-ms 250] [--json]
 *
 * Crawls items from a local flaky API (started here) through a durable SQLite queue: invalid
 * items and gone pages are skipped, rate limits pause the queue, network errors are retried
 * with backoff, bad credentials abort, the rest is dead-lettered with suggestions. Ctrl-C (or a
 * crash) keeps the progress; run it again to resume. Decisions are logged with pino to stderr.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { lifecycle } from '../../src/lifecycle/lifecycle.js';
import { logDecisions } from '../../src/observe/logger.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { startItemsApi } from '../../src/demo/api.js';
import { Crawler } from '../../src/demo/crawler.js';
import { buildReport } from '../../src/demo/report.js';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '500' },
    db: { type: 'string', default: 'crawler.db' },
    // The default plan waits 1 s, 2 s, 4 s ...; the example runs it 100× faster.
    'time-scale': { type: 'string', default: '0.01' },
    // Deadline of one request: it ends the API's hangs.
    'timeout-ms': { type: 'string', default: '250' },
    json: { type: 'boolean', default: false },
  },
});

const api = await startItemsApi();
const store = new SqliteStore(values.db);
const crawler = new Crawler({
  store,
  apiUrl: api.url,
  items: Number(values.items),
  timeScale: Number(values['time-scale']),
  requestTimeoutMs: Number(values['timeout-ms']),
  // After a crash, jobs that were running come back once their lease runs out.
  leaseMs: 2_000,
});

// One log line per decision (retry, pause, dead letter, abort, breaker change) with its category.
const logger = pino({ base: null }, pino.destination(2));
logDecisions(crawler.worker, logger, { component: 'worker' });
logDecisions(crawler.breaker, logger, { component: 'breaker', levels: { rejected: 'off' } });

let done = 0;
crawler.worker.events.on('completed', () => {
  if (++done % 100 === 0) process.stdout.write(`crawled ${done} items\n`);
});

// Ctrl-C: stop taking jobs, let running ones finish, write the checkpoint, then close.
const life = lifecycle({ exit: false, graceMs: 5_000 });
life.onCleanup('store', () => store.close());
life.onCleanup('items API', () => api.close());
const report = await life.track(crawler.run(life.stopping).then((outcome) => buildReport(crawler, outcome)), 'crawl');
const shutdown = life.state === 'running' ? life.shutdown('crawl over') : life.done;
const { exitCode } = await shutdown;
life.dispose();

if (values.json) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  const t = report.totals;
  console.log(`\n${report.finished ? 'Finished' : 'Stopped'}: ${t.completed} completed, ${t.dead} dead-lettered of ${report.items} (run ${report.runs}).`);
  console.table(report.byCategory);
  for (const group of report.deadLetters) {
    console.log(`${group.category} × ${group.count}: e.g. ${group.example.message}`);
    for (const suggestion of group.suggestions) console.log(`  - ${suggestion}`);
  }
  if (!report.finished) console.log(`Run the same command again to resume from the checkpoint.`);
}
process.exitCode = report.aborted ? 1 : report.finished ? 0 : exitCode || 130;
