import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { dropSchema, sharedPool, uniqueSchema } from './shared-postgres.js';

/**
 * LISTEN/NOTIFY wake-ups: an idle worker whose poll is a minute away starts a job enqueued by
 * another process (another store instance) at once; one listening connection serves every
 * worker of a store; it comes back after the server kills it.
 */
const schema = uniqueSchema('wake');
const pool = sharedPool(6);
let workerSide: PostgresStore;
let producerSide: PostgresStore;

beforeAll(async () => {
  workerSide = await PostgresStore.open({ pool, schema });
  producerSide = await PostgresStore.open({ pool, schema, listen: false });
});
afterAll(async () => {
  await workerSide.close();
  await producerSide.close();
  await dropSchema(pool, schema);
  await pool.end();
});

const listeners = async () =>
  Number(
    (
      await pool.query('SELECT count(*) AS n FROM pg_stat_activity WHERE query = $1', [
        `LISTEN "faultline:${schema}"`,
      ])
    ).rows[0].n,
  );

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('LISTEN/NOTIFY wake-ups', () => {
  it('wakes idle workers of another process at once; one listening connection for all of them', async () => {
    const started: string[] = [];
    const queue = new Queue<{ n: number }>(workerSide, 'wake');
    // Polls a minute apart: only a wake-up can start these jobs within the test's time.
    const workers = Array.from({ length: 3 }, () =>
      new Worker(queue, async (p) => void started.push(String(p.n)), {
        pollMs: 60_000,
        keepAlive: false,
      }).start(),
    );
    await until(() => workerSide.listening, 'the listener');
    expect(await listeners()).toBe(1);
    const producer = new Queue<{ n: number }>(producerSide, 'wake');
    for (let n = 1; n <= 3; n++) {
      await producer.enqueue({ n });
      await until(() => started.includes(String(n)), `job ${n} to start`);
    }
    // The server kills the listening connection: it reconnects, and wake-ups work again.
    await pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1', [
      `LISTEN "faultline:${schema}"`,
    ]);
    await until(
      async () => workerSide.listening && (await listeners()) === 1,
      'the listener to come back',
    );
    await producer.enqueue({ n: 4 });
    await until(() => started.includes('4'), 'job 4 to start after the reconnect');
    await Promise.all(workers.map((w) => w.stop()));
    // The last worker gone, the listening connection closes.
    await until(async () => (await listeners()) === 0, 'the listener to close');
    expect(workerSide.listening).toBe(false);
  });

  it('a delayed job sends no wake-up; a listener of another queue is not called', async () => {
    let woken = 0;
    const off = workerSide.onWake('quiet', () => woken++);
    await until(() => workerSide.listening, 'the listener');
    woken = 0;
    const loud = new Queue(producerSide, 'loud');
    await new Queue(producerSide, 'quiet').enqueue({}, { delayMs: 60_000 });
    await loud.enqueue({});
    let heardLoud = false;
    const offLoud = workerSide.onWake('loud', () => {
      heardLoud = true;
    });
    await loud.enqueue({});
    await until(() => heardLoud, 'the loud queue');
    expect(woken).toBe(0);
    off();
    offLoud();
  });
});
