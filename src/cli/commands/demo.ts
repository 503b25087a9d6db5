import type { Command } from 'commander';
import type * as Pino from 'pino';
import { type ItemsApi, startItemsApi } from '../../demo/api.js';
import { Crawler } from '../../demo/crawler.js';
import { buildReport, type CrawlReport } from '../../demo/report.js';
import { MissingPeerError } from '../../faults/errors.js';
import { lifecycle } from '../../lifecycle/lifecycle.js';
import type { LoggerLike } from '../../observe/log/logger.js';
import { logDecisions } from '../../observe/log/logger.js';
import { loadPeer } from '../../peers/optional-peer.js';
import { globalsOf } from '../context.js';
import { storeFlagFor } from '../hints.js';
import { watchProgress } from '../demo-progress.js';
import { renderSummary } from '../demo-summary.js';
import { CliError, EXIT } from '../exit-codes.js';
import { createOutput } from '../output.js';
import { parseCount, parsePort, parsePositiveCount } from '../parse.js';
import { openStore, parseStoreOption } from '../store.js';

export const DEMO_STORE = 'sqlite:./faultline-demo.db';
const DEMO_REDIS_PREFIX = 'faultline-demo';
const DEMO_PG_SCHEMA = 'faultline_demo';

interface DemoOptions {
  items: number;
  concurrency: number;
  timeScale: number;
  timeoutMs: number;
  latencyMs: number;
  credentialExpiry?: boolean;
  metricsPort?: number;
  otelConsole?: boolean;
  log: string | false;
  rateLimitEvery?: number;
  burstEvery?: number;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'crawl N items from a local flaky API through the default recovery plan, durably (Ctrl-C, then run again to resume)',
    )
    .option('-n, --items <n>', 'items in a new crawl', parsePositiveCount, 2000)
    .option('-c, --concurrency <n>', 'jobs at once', parsePositiveCount, 16)
    .option(
      '--time-scale <factor>',
      "multiplies the plan's backoff delays (1 = real 1 s, 2 s, 4 s...; Retry-After is never shortened)",
      parseScale,
      0.01,
    )
    .option('--timeout-ms <ms>', 'deadline of one request (ends hangs)', parsePositiveCount, 250)
    .option('--latency-ms <ms>', 'latency of every API answer', parseCount, 0)
    .option(
      '--credential-expiry',
      'the API rejects the token partway through (auth → the plan aborts; run again to resume)',
    )
    .option('--rate-limit-every <n>', 'one 429 every N requests (0 = never)', parseCount)
    .option('--burst-every <n>', 'a burst of 503s every N requests (0 = never)', parseCount)
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics on http://127.0.0.1:<port>/metrics',
      parsePort,
    )
    .option(
      '--otel-console',
      'print OpenTelemetry spans of the runs with a decision (retry, pause, dead letter) on stdout',
    )
    .option(
      '--log <file>',
      'one JSON log line per recovery decision (pino) to this file',
      'faultline-demo.log',
    )
    .option('--no-log', 'no decision log')
    .action(async (options: DemoOptions, command: Command) => {
      process.exitCode = await demo(options, command);
    });
}

function parseScale(text: string): number {
  const n = Number(text);
  if (!(n > 0 && n <= 10))
    throw new CliError(
      `--time-scale must be a number > 0 and <= 10, got ${JSON.stringify(text)}`,
      EXIT.usage,
    );
  return n;
}

async function demo(options: DemoOptions, command: Command): Promise<number> {
  const globals = globalsOf(command);
  const out = createOutput(globals.json === true);
  const storeFromUser = command.parent?.getOptionValueSource('store') !== 'default';
  const location = parseStoreOption(storeFromUser ? globals.store : DEMO_STORE);
  const prefix = globals.redisPrefix ?? (location.kind === 'redis' ? DEMO_REDIS_PREFIX : undefined);
  const schema = globals.pgSchema ?? (location.kind === 'postgres' ? DEMO_PG_SCHEMA : undefined);
  const opened = await openStore(location, {
    create: true,
    ...(prefix === undefined ? {} : { prefix }),
    ...(schema === undefined ? {} : { schema }),
  });
  const storeFlag = storeFlagFor(opened, prefix, schema);
  // Resuming the default demo store needs no flags; inspecting it does (the CLI's default store differs).
  const resumeFlags =
    storeFromUser || globals.redisPrefix !== undefined || globals.pgSchema !== undefined
      ? storeFlag
      : '';

  // The lifecycle's progress lines matter after Ctrl-C; after a normal finish they are noise.
  let quiet = false;
  const lc = lifecycle({
    exit: false,
    graceMs: 10_000,
    deadlineMs: 30_000,
    log: (line) => quiet || out.note(line),
  });
  // A second Ctrl-C forces the exit: leased jobs come back to the queue when their lease runs out.
  lc.events.on('exit', (report) => {
    if (report.forced) process.exit(report.exitCode);
  });
  lc.onCleanup('store', () => opened.store.close());
  let api: ItemsApi | undefined;
  let report: CrawlReport | undefined;
  let failure: unknown;
  try {
    api = await startItemsApi({
      latencyMs: options.latencyMs,
      credentialsExpireAt: options.credentialExpiry
        ? Math.max(50, Math.floor(options.items * 0.4))
        : undefined,
      ...(options.rateLimitEvery === undefined ? {} : { rateLimitEvery: options.rateLimitEvery }),
      ...(options.burstEvery === undefined ? {} : { burstEvery: options.burstEvery }),
    });
    const itemsApi = api;
    lc.onCleanup('items API', () => itemsApi.close());
    const crawler = new Crawler({
      store: opened.store,
      apiUrl: api.url,
      items: options.items,
      concurrency: options.concurrency,
      timeScale: options.timeScale,
      requestTimeoutMs: options.timeoutMs,
    });
    const previous = await crawler.loadCheckpoint();
    const resuming = previous !== undefined && !previous.finished;
    const total = resuming ? previous.items : options.items;
    const done = resuming ? await alreadyDone(crawler, previous.completedBefore) : 0;

    out.note(
      `faultline demo: crawling ${total} items from a flaky local API (${api.url}) on ${opened.label}`,
    );
    out.note(
      resuming
        ? `Resuming the crawl from its checkpoint: ${done} of ${total} items were done in ${previous.runs} earlier run${previous.runs === 1 ? '' : 's'}.`
        : previous?.finished
          ? 'The previous crawl finished; starting a new one.'
          : 'Starting a new crawl.',
    );
    out.note(
      `Delays of the default plan are scaled by ${options.timeScale} (1 s, 2 s, 4 s ... become ${scaled(1000, options.timeScale)}, ${scaled(2000, options.timeScale)}, ${scaled(4000, options.timeScale)} ...); Retry-After is honoured as sent. Ctrl-C stops gracefully.`,
    );

    await attachMetrics(options, crawler, lc, out.note);
    await attachTracing(options, globals.json === true, crawler, lc, out.note);
    await attachLog(options, crawler, lc, out.note);

    const progress = watchProgress(crawler, total, done);
    try {
      // The report is part of the tracked work: shutdown closes the store only after it.
      const crawl = async () => buildReport(crawler, await crawler.run(lc.stopping));
      report = await lc.track(crawl(), 'crawl');
    } finally {
      progress.stop();
    }
  } catch (error) {
    failure = error;
  }
  if (lc.state === 'running') {
    quiet = failure === undefined;
    void lc.shutdown(failure === undefined ? 'crawl over' : 'crawl failed');
  }
  const shutdown = await lc.done;
  lc.dispose();
  if (failure !== undefined) throw failure;
  if (report === undefined) throw new CliError('The crawl ended without a report', EXIT.failure);

  out.result({ store: opened.label, ...report }, () =>
    renderSummary(report, storeFlag, resumeFlags),
  );
  if (globals.json)
    out.note(
      renderSummary(report, storeFlag, resumeFlags)
        .split('\n')
        .filter((l) => l.startsWith('Progress is saved'))
        .join('\n'),
    );
  if (report.aborted) return EXIT.failure;
  // Stopped by a signal before the end: 130 for Ctrl-C, 143 for SIGTERM (the lifecycle's code).
  if (report.interrupted || shutdown.signal !== undefined)
    return report.finished ? EXIT.ok : shutdown.exitCode || EXIT.interrupted;
  return EXIT.ok;
}

/** Items finished by earlier runs of this crawl, from the store. */
async function alreadyDone(crawler: Crawler, completedBefore: number): Promise<number> {
  const counts = await crawler.queue.stats();
  return counts.completed - completedBefore + counts.dead;
}

function scaled(ms: number, scale: number): string {
  const v = ms * scale;
  return v >= 1000 ? `${v / 1000} s` : `${Math.round(v)} ms`;
}

type Lifecycle = ReturnType<typeof lifecycle>;

async function attachMetrics(
  options: DemoOptions,
  crawler: Crawler,
  lc: Lifecycle,
  note: (text: string) => void,
): Promise<void> {
  if (options.metricsPort === undefined) return;
  // prom-client is loaded only when metrics are asked for.
  const { FaultlineMetrics, serveMetrics } = await import('../../observe/prometheus/index.js');
  const metrics = new FaultlineMetrics();
  metrics
    .observeWorker(crawler.worker, crawler.queue.name)
    .observeBreaker(crawler.breaker, 'items-api')
    .observeQueue(crawler.queue, { refreshMs: 500 });
  let server: Awaited<ReturnType<typeof serveMetrics>>;
  try {
    server = await serveMetrics(metrics, { port: options.metricsPort });
  } catch (error) {
    metrics.close();
    throw new CliError(
      `Cannot serve metrics on port ${options.metricsPort}: ${(error as Error).message}`,
      EXIT.failure,
      'Pick another --metrics-port',
    );
  }
  lc.onCleanup('metrics', async () => {
    metrics.close();
    await server.close();
  });
  note(`Metrics: ${server.url}`);
}

async function attachTracing(
  options: DemoOptions,
  json: boolean,
  crawler: Crawler,
  lc: Lifecycle,
  note: (text: string) => void,
): Promise<void> {
  if (options.otelConsole !== true) return;
  if (json)
    throw new CliError(
      '--otel-console prints spans on stdout, which --json needs for the result',
      EXIT.usage,
      'Drop one of the two',
    );
  // The OpenTelemetry API and SDK are loaded only when asked for; they are not dependencies of the CLI.
  let modules: [typeof import('../otel-console.js'), typeof import('../../observe/otel/index.js')];
  try {
    modules = await Promise.all([
      import('../otel-console.js'),
      import('../../observe/otel/index.js'),
    ]);
  } catch {
    note(
      'Tracing off: npm install @opentelemetry/api @opentelemetry/sdk-trace-base @opentelemetry/context-async-hooks @opentelemetry/core',
    );
    return;
  }
  const [{ startConsoleTracing }, { tracePolicy, traceQueue, traceWorker }] = modules;
  const tracing = startConsoleTracing();
  const offs = [
    traceQueue(crawler.queue),
    traceWorker(crawler.worker),
    tracePolicy(crawler.breaker),
  ];
  lc.onCleanup('tracing', async () => {
    for (const off of offs) off();
    await tracing.shutdown();
  });
  note(
    'Tracing: the spans of runs where the plan decided something (retry, pause, dead letter) are printed below.',
  );
}

async function attachLog(
  options: DemoOptions,
  crawler: Crawler,
  lc: Lifecycle,
  note: (text: string) => void,
): Promise<void> {
  if (options.log === false) return;
  let pino: typeof Pino.default;
  try {
    pino = loadPeer<typeof Pino>('pino').default;
  } catch (error) {
    // The log is a nicety of the demo: without pino it runs on, and says why there is no log.
    if (!(error instanceof MissingPeerError)) throw error;
    note(`Decision log off: ${error.message}.`);
    return;
  }
  const destination = pino.destination({ dest: options.log, sync: true, mkdir: true });
  const logger = pino({ base: { app: 'faultline-demo' } }, destination) as unknown as LoggerLike;
  const offs = [
    logDecisions(crawler.worker, logger, { component: 'worker' }),
    logDecisions(crawler.breaker, logger, { component: 'breaker', levels: { rejected: 'off' } }),
  ];
  lc.onCleanup('decision log', () => {
    for (const off of offs) off();
  });
  note(`Decisions are logged to ${options.log} (one JSON line each, with the fault's category).`);
}
