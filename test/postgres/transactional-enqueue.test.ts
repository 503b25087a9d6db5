import { drizzle } from 'drizzle-orm/node-postgres';
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { ConfigError } from '../../src/faults/errors.js';
import { MemoryStore } from '../../src/stores/memory/memory-store.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { drizzleExecutor, kyselyExecutor } from './orm-executors.js';
import { dropSchema, sharedPool, uniqueSchema } from './shared-postgres.js';

/**
 * Enqueue inside the application's own transaction: the job exists if and only if the
 * business write commits. node-postgres directly, Drizzle and Kysely.
 */
const schema = uniqueSchema('tx');
const pool = sharedPool(8);
let store: PostgresStore;
let queue: Queue<{ order: number }>;

beforeAll(async () => {
  store = await PostgresStore.open({ pool, schema });
  queue = new Queue(store, 'orders');
  await pool.query(`CREATE TABLE "${schema}".orders (id int PRIMARY KEY)`);
});
afterAll(async () => {
  await store.close();
  await dropSchema(pool, schema);
  await pool.end();
});

/** BEGIN ... fn ... COMMIT or ROLLBACK on one pooled client. */
async function inTransaction<T>(
  end: 'COMMIT' | 'ROLLBACK',
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query(end);
    return result;
  } finally {
    client.release();
  }
}

const insertOrder = (
  db: { query(text: string, values: unknown[]): Promise<unknown> },
  id: number,
) => db.query(`INSERT INTO "${schema}".orders (id) VALUES ($1)`, [id]);

async function runOne(id: string): Promise<void> {
  const worker = new Worker(queue, async () => {}, { pollMs: 20, keepAlive: false }).start();
  for (let i = 0; i < 500 && (await store.getJob(id))?.state !== 'completed'; i++)
    await new Promise((r) => setTimeout(r, 10));
  await worker.stop();
  expect((await store.getJob(id))?.state).toBe('completed');
}

describe('transactional enqueue on PostgreSQL', () => {
  it('node-postgres: a rolled-back job does not exist; a committed one runs', async () => {
    const rolled = await inTransaction('ROLLBACK', async (client) => {
      await insertOrder(client, 1);
      return queue.enqueue({ order: 1 }, { tx: client });
    });
    expect(await store.getJob(rolled.id)).toBeUndefined();
    const committed = await inTransaction('COMMIT', async (client) => {
      await insertOrder(client, 2);
      return queue.enqueue({ order: 2 }, { tx: client });
    });
    expect(committed.created).toBe(true);
    await runOne(committed.id);
    const many = await inTransaction('ROLLBACK', (client) =>
      queue.enqueueMany([{ payload: { order: 3 } }, { payload: { order: 4 }, priority: 2 }], {
        tx: client,
      }),
    );
    expect(many).toHaveLength(2);
    for (const result of many) expect(await store.getJob(result.id)).toBeUndefined();
  });

  it('notifies on commit only, never for a rolled-back job', async () => {
    const listener = await pool.connect();
    const heard: string[] = [];
    listener.on('notification', (m) => heard.push(m.payload ?? ''));
    await listener.query(`LISTEN "faultline:${schema}"`);
    try {
      const rolledQueue = new Queue(store, 'rolled-back');
      const committedQueue = new Queue(store, 'committed');
      await inTransaction('ROLLBACK', (client) => rolledQueue.enqueue({ n: 1 }, { tx: client }));
      await inTransaction('COMMIT', async (client) => {
        await committedQueue.enqueue({ n: 2 }, { tx: client });
        // Not yet committed: a round trip on the listening connection brings nothing.
        await listener.query('SELECT 1');
        expect(heard).toEqual([]);
      });
      // Notifications arrive in commit order: once 'committed' is heard, a 'rolled-back' one would have come first.
      for (let i = 0; i < 200 && heard.length === 0; i++)
        await listener.query('SELECT pg_sleep(0.01)');
      expect(heard).toEqual(['committed']);
    } finally {
      listener.release(true);
    }
  });

  it('Drizzle: rollback leaves no job; commit enqueues one that a worker runs', async () => {
    const db = drizzle(pool);
    let rolledId = '';
    await expect(
      db.transaction(async (tx) => {
        const executor = drizzleExecutor(tx);
        await insertOrder(executor, 10);
        rolledId = (await queue.enqueue({ order: 10 }, { tx: executor })).id;
        tx.rollback();
      }),
    ).rejects.toThrow(/Rollback/i);
    expect(rolledId).not.toBe('');
    expect(await store.getJob(rolledId)).toBeUndefined();
    expect(
      (await pool.query(`SELECT count(*)::int AS n FROM "${schema}".orders WHERE id = 10`)).rows[0]
        .n,
    ).toBe(0);
    const committed = await db.transaction(async (tx) => {
      const executor = drizzleExecutor(tx);
      await insertOrder(executor, 11);
      return queue.enqueueMany(
        [{ payload: { order: 11 } }, { payload: { order: 12 }, idempotencyKey: 'order-12' }],
        { tx: executor },
      );
    });
    expect(committed.map((r) => r.created)).toEqual([true, true]);
    await runOne(committed[1]!.id);
  });

  it('Kysely: rollback leaves no job; commit enqueues one that a worker runs', async () => {
    const db = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool }) });
    let rolledId = '';
    await expect(
      db.transaction().execute(async (trx) => {
        rolledId = (await queue.enqueue({ order: 20 }, { tx: kyselyExecutor(trx) })).id;
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    expect(await store.getJob(rolledId)).toBeUndefined();
    const committed = await db.transaction().execute(async (trx) => {
      const executor = kyselyExecutor(trx);
      await insertOrder(executor, 21);
      return queue.enqueue({ order: 21 }, { tx: executor, delayMs: 0, priority: 1 });
    });
    await runOne(committed.id);
  });

  it('the same idempotency key in two concurrent transactions stores one job', async () => {
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      await a.query('BEGIN');
      await b.query('BEGIN');
      const first = await queue.enqueue({ order: 30 }, { tx: a, idempotencyKey: 'order-30' });
      // B's insert waits on A's uncommitted row, then finds it once A commits.
      const second = queue.enqueue({ order: 30 }, { tx: b, idempotencyKey: 'order-30' });
      await a.query('COMMIT');
      expect(await second).toEqual({ id: first.id, created: false });
      await b.query('COMMIT');
      // And when the first transaction rolls back, the second one's job is the one stored.
      await a.query('BEGIN');
      await b.query('BEGIN');
      await queue.enqueue({ order: 31 }, { tx: a, idempotencyKey: 'order-31' });
      const survivor = queue.enqueue({ order: 31 }, { tx: b, idempotencyKey: 'order-31' });
      await a.query('ROLLBACK');
      const stored = await survivor;
      await b.query('COMMIT');
      expect(stored.created).toBe(true);
    } finally {
      a.release();
      b.release();
    }
    const counts = await pool.query(
      `SELECT idempotency_key, count(*)::int AS n FROM "${schema}".jobs WHERE idempotency_key LIKE 'order-3%' GROUP BY 1 ORDER BY 1`,
    );
    expect(counts.rows).toEqual([
      { idempotency_key: 'order-30', n: 1 },
      { idempotency_key: 'order-31', n: 1 },
    ]);
  });

  it('a tx that is not an executor, and a tx on a store without SQL, are refused with ConfigError', async () => {
    await expect(queue.enqueue({ order: 40 }, { tx: {} as never })).rejects.toBeInstanceOf(
      ConfigError,
    );
    const memory = new Queue(new MemoryStore(), 'orders');
    await expect(
      memory.enqueue({ order: 41 }, { tx: { query: async () => ({ rows: [] }) } }),
    ).rejects.toBeInstanceOf(ConfigError);
    await expect(
      memory.enqueue({ order: 41 }, { tx: { query: async () => ({ rows: [] }) } }),
    ).rejects.toThrow(/only the PostgreSQL store/);
  });
});
