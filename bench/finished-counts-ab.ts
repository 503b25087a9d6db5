/**
 * What the finished-count triggers cost the queue's hot path: claim and complete N jobs in
 * batches of 50 through the store, with the triggers and with them dropped (the counts are then
 * wrong: only for this measurement), alternating, median of the samples. SQLite in a temp file;
 * PostgreSQL in a schema of its own, dropped afterwards.
 *
 *   npx tsx bench/finished-counts-ab.ts [--stores sqlite,postgres] [--jobs 20000] [--samples 3]
 *       [--postgres-url postgres://postgres@127.0.0.1:5432/test] [--json]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DurableStore } from '../src/durable/store.js';
import { PostgresStore } from '../src/stores/postgres/postgres-store.js';
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.js';
import { argValue, median, wantsJson } from './lib.js';

const stores = (argValue('stores') ?? 'sqlite,postgres').split(',');
const jobs = Number(argValue('jobs') ?? 20_000);
const samples = Number(argValue('samples') ?? 3);
const postgresUrl = argValue('postgres-url') ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Jobs per second through claim + complete, batches of 50, one queue. */
async function drain(store: DurableStore, queue: string): Promise<number> {
  const now = Date.now();
  for (let i = 0; i < jobs; i += 1_000)
    await store.enqueue(
      Array.from({ length: Math.min(1_000, jobs - i) }, () => ({
        queue,
        payload: '{}',
        priority: 0,
        runAt: now,
      })),
      now,
    );
  const t0 = performance.now();
  for (;;) {
    const claimed = await store.claim({
      queue,
      workerId: 'ab',
      limit: 50,
      leaseMs: 60_000,
      now,
      maxStrikes: 3,
    });
    if (claimed.length === 0) break;
    await store.settle(
      claimed.map((j) => ({ kind: 'complete' as const, id: j.id, token: j.token })),
      now,
    );
  }
  return jobs / ((performance.now() - t0) / 1000);
}

interface Variant {
  readonly label: string;
  run(sample: number): Promise<number>;
}

async function measure(
  kind: string,
  variants: readonly Variant[],
): Promise<Record<string, number>> {
  const rates = new Map<string, number[]>(variants.map((v) => [v.label, []]));
  for (let sample = 0; sample < samples; sample++)
    for (const variant of sample % 2 === 0 ? variants : [...variants].reverse()) {
      const rate = await variant.run(sample);
      rates.get(variant.label)!.push(rate);
      log(`${kind} ${variant.label}: ${Math.round(rate)} jobs/s`);
    }
  return Object.fromEntries(
    [...rates].map(([label, r]) => [`${kind} ${label} jobs/s`, Math.round(median(r))]),
  );
}

const SQLITE_TRIGGERS = [
  'faultline_finished_insert',
  'faultline_finished_delete',
  'faultline_finished_leave',
  'faultline_finished_enter',
];

async function main(): Promise<void> {
  const all: Record<string, number | string> = {};
  if (stores.includes('sqlite')) {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-counts-'));
    try {
      const variant = (label: string, dropTriggers: boolean): Variant => ({
        label,
        async run(sample) {
          const path = join(dir, `${label}-${sample}.db`);
          await new SqliteStore(path).close();
          if (dropTriggers) {
            const db = new Database(path);
            for (const t of SQLITE_TRIGGERS) db.exec(`DROP TRIGGER ${t}`);
            db.close();
          }
          const store = new SqliteStore(path);
          try {
            return await drain(store, 'q');
          } finally {
            await store.close();
          }
        },
      });
      Object.assign(
        all,
        await measure('sqlite', [variant('with triggers', false), variant('without', true)]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (stores.includes('postgres')) {
    const pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
    const schemas: string[] = [];
    try {
      const variant = (label: string, dropTriggers: boolean): Variant => ({
        label,
        async run() {
          const schema = `fl_bench_counts_${randomBytes(4).toString('hex')}`;
          schemas.push(schema);
          const store = await PostgresStore.open({ pool, schema, listen: false });
          try {
            if (dropTriggers)
              for (const t of ['finished_insert', 'finished_delete', 'finished_update'])
                await pool.query(`DROP TRIGGER ${t} ON "${schema}".jobs`);
            return await drain(store, 'q');
          } finally {
            await store.close();
          }
        },
      });
      Object.assign(
        all,
        await measure('postgres', [variant('with triggers', false), variant('without', true)]),
      );
    } finally {
      for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  }
  all.jobs = jobs;
  if (wantsJson()) process.stdout.write(`${JSON.stringify(all)}\n`);
}

await main();
