/**
 * The dashboard on a large store: server time of the overview, the first dead-letter page, a
 * deep page (keyset), filtered pages, one dead letter, and a requeue of 10,000 filtered dead
 * letters (its preview and the confirmed action), on SQLite, Redis and/or PostgreSQL.
 *
 *   npx tsx bench/dashboard.ts [--stores sqlite,redis,postgres] [--completed 1000000] [--dead 100000]
 *       [--completed-over-ms 86400000] [--samples 5] [--redis-url redis://127.0.0.1:6390]
 *       [--postgres-url postgres://postgres@127.0.0.1:5432/test] [--json]
 *
 * Server time = from the request reaching the handler to the last byte handed to the socket, on
 * a cold read cache (each request sees a clock 10 s later, so no store read is shared). The
 * Redis case needs a Redis it may fill (about 1 GB for the default sizes): start a private one,
 * e.g. `redis-server --port 6390 --save '' --appendonly no`; keys go under a unique prefix,
 * deleted afterwards. The PostgreSQL case fills a schema of its own (rows inserted on the server,
 * through the store's triggers), dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDashboard } from '../src/dashboard/index.js';
import type { DurableStore } from '../src/durable/store.js';
import { PostgresStore } from '../src/stores/postgres/postgres-store.js';
import { RedisStore } from '../src/stores/redis/redis-store.js';
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.js';
import type { Clock } from '../src/time/clock.js';
import { systemClock } from '../src/time/system-clock.js';
import { type FillPlan, fillPostgres, fillSqlite, fillThroughStore } from './dashboard-fill.js';
import { argValue, median, wantsJson } from './lib.js';

const json = wantsJson();
const stores = (argValue('stores') ?? 'sqlite').split(',');
const completed = Number(argValue('completed') ?? 1_000_000);
const dead = Number(argValue('dead') ?? 100_000);
const completedOverMs = Number(argValue('completed-over-ms') ?? 86_400_000);
const samples = Number(argValue('samples') ?? 5);
const redisUrl =
  argValue('redis-url') ?? process.env.FAULTLINE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6390';
const postgresUrl =
  argValue('postgres-url') ??
  process.env.FAULTLINE_BENCH_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const log = (line: string) => process.stderr.write(`${line}\n`);

/** The system clock, except that the monotonic time jumps 10 s per reading: the read cache never hits. */
function coldClock(): Clock {
  let offset = 0;
  return {
    now: () => {
      offset += 10_000;
      return systemClock.now() + offset;
    },
    wallTime: () => systemClock.wallTime(),
    sleep: (ms, signal, options) => systemClock.sleep(ms, signal, options),
    schedule: (ms, callback, options) => systemClock.schedule(ms, callback, options),
  };
}

interface Served {
  readonly base: string;
  /** Server time of the last finished request, ms. */
  last(): number;
  close(): Promise<void>;
}

async function serveTimed(store: DurableStore): Promise<Served> {
  const handler = createDashboard({ store, clock: coldClock(), pageSize: 50 });
  let last = Number.NaN;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const t0 = performance.now();
    res.on('finish', () => {
      last = performance.now() - t0;
    });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    last: () => last,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function timed(
  served: Served,
  path: string,
  init?: RequestInit,
): Promise<{ ms: number; text: string; status: number; location: string | null }> {
  const response = await fetch(`${served.base}${path}`, { redirect: 'manual', ...init });
  const text = await response.text();
  if (response.status >= 400)
    throw new Error(`${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return {
    ms: served.last(),
    text,
    status: response.status,
    location: response.headers.get('location'),
  };
}

async function medianOf(served: Served, path: string): Promise<number> {
  await timed(served, path); // warm-up (JIT, statement cache)
  const times: number[] = [];
  for (let i = 0; i < samples; i++) times.push((await timed(served, path)).ms);
  return median(times);
}

async function measure(label: string, store: DurableStore): Promise<Record<string, number>> {
  const served = await serveTimed(store);
  const results: Record<string, number> = {};
  const record = (name: string, ms: number) => {
    results[`${label} ${name}`] = Math.round(ms * 10) / 10;
    log(`${label} ${name}: ${ms.toFixed(1)} ms`);
  };
  try {
    record('overview', await medianOf(served, '/'));
    record('dead letters, first page', await medianOf(served, '/dead'));
    // A page deep in the list: the cursor of the 90,000th newest dead letter.
    const all = await store.requeueDead({ query: {} }, { now: Date.now(), dryRun: true });
    const target = await store.getJob(all[Math.min(all.length - 1, 90_000)]!);
    record(
      'dead letters, page at 90,000',
      await medianOf(
        served,
        `/dead?beforeAt=${target!.finishedAt}&beforeId=${encodeURIComponent(target!.id)}`,
      ),
    );
    let page = (await timed(served, '/dead')).text;
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const next = /<a rel="next" href="([^"]+)"/.exec(page)![1]!.replace(/&amp;/g, '&');
      const r = await timed(served, next);
      times.push(r.ms);
      page = r.text;
    }
    record('dead letters, pages 2-21 (next links)', median(times));
    record('dead letters, category filter', await medianOf(served, '/dead?category=rate_limit'));
    record(
      'dead letters, queue + category filter',
      await medianOf(served, '/dead?queue=upload&category=validation'),
    );
    record('dead letters, text search (scan)', await medianOf(served, '/dead?text=request%2042'));
    record('one dead letter', await medianOf(served, `/dead/${encodeURIComponent(target!.id)}`));

    // Requeue 10,000 filtered dead letters through the dashboard: preview (dry run), then confirm.
    const preview = await timed(served, '/dead/preview?action=requeue&category=auth');
    record('requeue 10,000: preview (dry run)', preview.ms);
    const csrfCookie = await fetch(`${served.base}/dead`).then(
      (r) => r.headers.getSetCookie()[0]!.split(';')[0]!,
    );
    const withCookie = await fetch(`${served.base}/dead/preview?action=requeue&category=auth`, {
      headers: { cookie: csrfCookie },
    }).then((r) => r.text());
    const form = new URLSearchParams();
    for (const m of withCookie.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
      form.append(m[1]!, m[2]!);
    const expected = Number(form.get('expected'));
    const done = await timed(served, '/dead/requeue', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
      body: form.toString(),
    });
    if (!done.location?.includes(`n=${expected}`))
      throw new Error(`the requeue answered ${done.location}`);
    record(`requeue ${expected.toLocaleString('en-US')}: confirmed action`, done.ms);
    results[`${label} requeued`] = expected;
  } finally {
    await served.close();
  }
  return results;
}

async function main(): Promise<void> {
  const plan: FillPlan = {
    completed,
    dead,
    completedOverMs,
    deadOverMs: 7 * 86_400_000,
    now: Date.now(),
  };
  const all: Record<string, number | string> = {};
  for (const kind of stores) {
    if (kind === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-dashboard-'));
      try {
        const path = join(dir, 'store.db');
        const t0 = performance.now();
        await fillSqlite(path, plan);
        log(
          `sqlite: filled ${completed} completed + ${dead} dead in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
        const store = new SqliteStore(path);
        try {
          Object.assign(all, await measure('sqlite', store));
        } finally {
          await store.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } else if (kind === 'redis') {
      const prefix = `fl-bench-dash-${randomBytes(4).toString('hex')}`;
      const store = new RedisStore({ url: redisUrl, prefix });
      try {
        const t0 = performance.now();
        await fillThroughStore(store, plan);
        log(
          `redis: filled ${completed} completed + ${dead} dead in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
        Object.assign(all, await measure('redis', store));
      } finally {
        let cursor = '0';
        do {
          const [next, keys] = await store.client.scan(
            cursor,
            'MATCH',
            `{${prefix}*`,
            'COUNT',
            5_000,
          );
          cursor = next;
          if (keys.length > 0) await store.client.unlink(...keys);
        } while (cursor !== '0');
        await store.close();
      }
    } else if (kind === 'postgres') {
      const schema = `fl_bench_dash_${randomBytes(4).toString('hex')}`;
      const pg = (await import('pg')).default;
      const pool = new pg.Pool({ connectionString: postgresUrl, max: 10 });
      try {
        const store = await PostgresStore.open({ pool, schema });
        try {
          const t0 = performance.now();
          await fillPostgres(pool, schema, plan);
          log(
            `postgres: filled ${completed} completed + ${dead} dead in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
          );
          Object.assign(all, await measure('postgres', store));
        } finally {
          await store.close();
        }
      } finally {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pool.end();
      }
    } else throw new Error(`unknown store ${kind} (sqlite, redis or postgres)`);
  }
  all.unit = 'ms server time (median)';
  all.completed = completed;
  all.dead = dead;
  if (json) process.stdout.write(`${JSON.stringify(all)}\n`);
}

await main();
