import vm from 'node:vm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import type { DurableStore } from '../../src/durable/store.js';
import { Worker } from '../../src/durable/worker.js';
import { constantBackoff } from '../../src/recovery/backoff.js';
import { recoveryPlan } from '../../src/recovery/plan.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import {
  connectShared,
  deletePrefix,
  SHARED_REDIS_URL,
  uniquePrefix,
} from '../redis/shared-redis.js';
import { tempDir } from './temp-dir.js';

/**
 * Nothing a handler throws, rejects with or returns can crash a worker or leave its job leased
 * after stop(): fast-check's arbitrary values and a hand-made list of hostile ones, on every store.
 */

const boom = () => {
  throw new Error('trap');
};

/** Values built to break code that inspects what was thrown. Made fresh per use (revocation is one-way). */
const hostile: Record<string, () => unknown> = {
  'Proxy whose getPrototypeOf throws': () => new Proxy({}, { getPrototypeOf: boom }),
  'Proxy whose every trap throws': () =>
    new Proxy(
      {},
      {
        get: boom,
        has: boom,
        ownKeys: boom,
        getPrototypeOf: boom,
        getOwnPropertyDescriptor: boom,
        set: boom,
        defineProperty: boom,
      },
    ),
  'Proxy of an Error whose every trap throws': () =>
    new Proxy(new Error('x'), {
      get: boom,
      has: boom,
      ownKeys: boom,
      getPrototypeOf: boom,
      getOwnPropertyDescriptor: boom,
    }),
  'revoked proxy': () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  },
  'throwing getters': () =>
    Object.defineProperties(new Error('x'), {
      message: { get: boom },
      name: { get: boom },
      code: { get: boom },
      stack: { get: boom },
      cause: { get: boom },
      status: { get: boom },
    }),
  'cross-realm error': () => vm.runInNewContext('new TypeError("from another realm")'),
  'cross-realm proxy': () =>
    vm.runInNewContext('new Proxy({}, { getPrototypeOf() { throw new Error("trap") } })'),
  'cyclic cause': () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    return a;
  },
  'toString and Symbol.toPrimitive throw': () => ({
    toString: boom,
    valueOf: boom,
    [Symbol.toPrimitive]: boom,
  }),
  'thenable whose then getter throws': () => Object.defineProperty({}, 'then', { get: boom }),
  // A thenable on purpose: awaiting it calls then, which throws.
  // biome-ignore lint/suspicious/noThenProperty: the hostile value under test
  'thenable that throws when called': () => ({ then: boom }),
  'null-prototype object': () => Object.create(null),
  bigint: () => 10n ** 30n,
  symbol: () => Symbol('s'),
  'huge message': () => new Error('x'.repeat(1_000_000)),
  'frozen error with a Symbol message': () =>
    Object.freeze(Object.assign(Object.create(Error.prototype), { message: Symbol('m') })),
};

type Mode = 'throw' | 'reject' | 'return';

const valueArb = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withSparseArray: true,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...Object.keys(hostile)).map((name) => ({ hostileName: name })),
  },
);

const tmp = tempDir('faultline-hostile-');
afterAll(() => tmp.cleanup());

/** Lets a store in another process answer: a bounded poll on real time (no-op for in-process stores). */
type Tick = () => Promise<void>;
const realTick: Tick = () => new Promise((resolve) => setTimeout(resolve, 2));
const noTick: Tick = async () => {};

async function runOne(
  store: DurableStore,
  queueName: string,
  value: unknown,
  mode: Mode,
  tick: Tick,
): Promise<void> {
  const clock = new VirtualClock();
  const queue = new Queue<{ n: number }>(store, queueName, { clock });
  const { id } = await queue.enqueue({ n: 1 });
  const make = (v: unknown) =>
    typeof v === 'object' && v !== null && 'hostileName' in v
      ? hostile[(v as { hostileName: string }).hostileName]!()
      : v;
  const worker = new Worker(
    queue,
    () => {
      const v = make(value);
      if (mode === 'throw') throw v;
      if (mode === 'reject') return Promise.reject(v);
      return v;
    },
    {
      clock,
      plan: recoveryPlan({ backoff: constantBackoff({ delayMs: 10 }) }),
      pollMs: 10,
      keepAlive: false,
    },
  );
  let settled = false;
  worker.events.on('completed', () => (settled = true));
  worker.events.on('giveUp', () => (settled = true));
  worker.start();
  for (let i = 0; i < 1_000 && !settled; i++) {
    await clock.advance(10);
    await tick();
  }
  const stopped = worker.stop({ deadlineMs: 100 });
  let done = false;
  void stopped.then(() => (done = true));
  for (let i = 0; i < 1_000 && !done; i++) {
    await clock.advance(10);
    await tick();
  }
  expect(done).toBe(true);
  const job = await store.getJob(id);
  // A thenable that never settles leaves the handler hanging: stop() hands its job back.
  expect(job!.state).not.toBe('running');
  expect(['completed', 'dead', 'waiting']).toContain(job!.state);
  expect(settled || job!.state === 'waiting').toBe(true);
}

function suite(
  name: string,
  open: () => Promise<{ store: DurableStore; close: () => Promise<void> }>,
  numRuns: number,
  tick: Tick = noTick,
) {
  describe(`hostile handler values on ${name}`, () => {
    it.each(['throw', 'reject', 'return'] as const)(
      'survives every hand-made hostile value (%s)',
      async (mode) => {
        const { store, close } = await open();
        const crashes: unknown[] = [];
        const onCrash = (error: unknown) => crashes.push(error);
        process.on('unhandledRejection', onCrash);
        try {
          for (const hostileName of Object.keys(hostile))
            await runOne(
              store,
              `q-${mode}-${hostileName.replace(/\W+/g, '-')}`,
              { hostileName },
              mode,
              tick,
            );
        } finally {
          process.off('unhandledRejection', onCrash);
          await close();
        }
        expect(crashes).toEqual([]);
      },
      60_000,
    );

    it('survives fast-check arbitrary values, thrown, rejected or returned', async () => {
      const { store, close } = await open();
      const crashes: unknown[] = [];
      const onCrash = (error: unknown) => crashes.push(error);
      process.on('unhandledRejection', onCrash);
      let n = 0;
      try {
        await fc.assert(
          fc.asyncProperty(
            valueArb,
            fc.constantFrom<Mode>('throw', 'reject', 'return'),
            async (value, mode) => {
              await runOne(store, `fc-${n++}`, value, mode, tick);
            },
          ),
          { numRuns },
        );
      } finally {
        process.off('unhandledRejection', onCrash);
        await close();
      }
      expect(crashes).toEqual([]);
    }, 120_000);
  });
}

suite('memory', async () => {
  const store = new MemoryStore();
  return { store, close: () => store.close() };
}, 200);

suite('SQLite', async () => {
  const store = new SqliteStore(tmp.path(`hostile-${Math.random().toString(36).slice(2)}.db`));
  return { store, close: () => store.close() };
}, 60);

suite(
  'Redis',
  async () => {
    const prefix = uniquePrefix('hostile');
    const store = new RedisStore({ url: SHARED_REDIS_URL, prefix });
    return {
      store,
      close: async () => {
        await store.close();
        const client = await connectShared();
        await deletePrefix(client, prefix);
        client.disconnect();
      },
    };
  },
  40,
  realTick,
);
