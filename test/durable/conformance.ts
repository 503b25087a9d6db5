import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobNotFoundError } from '../../src/durable/errors.js';
import { HISTORY_LIMIT } from '../../src/durable/store-rules.js';
import type { AttemptRecord, DurableStore, NewJob } from '../../src/durable/store.js';
import { describeStateMachine } from './conformance-model.js';

/**
 * The contract of DurableStore, as tests. Every store runs this same suite:
 *   describeStoreConformance('sqlite', () => new SqliteStore(file))
 * `makeStore` must return a fresh, empty store each time; `cleanup` (optional) runs before
 * `close()` after each test (e.g. to delete a Redis key prefix).
 */
export function describeStoreConformance(
  name: string,
  makeStore: () => DurableStore | Promise<DurableStore>,
  options: {
    readonly cleanup?: (store: DurableStore) => unknown;
    /** false: leave out the (long) model-based test, for a quick subset such as a second driver version. */
    readonly stateMachine?: boolean;
  } = {},
): void {
  describe(`DurableStore conformance: ${name}`, () => {
    let store: DurableStore;
    const T = Date.UTC(2030, 0, 1);
    const job = (over: Partial<NewJob> = {}): NewJob => ({
      queue: 'q',
      payload: '{"n":1}',
      priority: 0,
      runAt: T,
      ...over,
    });
    const claim = (over: Partial<Parameters<DurableStore['claim']>[0]> = {}) =>
      store.claim({
        queue: 'q',
        workerId: 'w1',
        limit: 10,
        leaseMs: 1_000,
        now: T,
        maxStrikes: 3,
        ...over,
      });
    const record = (over: Partial<AttemptRecord> = {}): AttemptRecord => ({
      attempt: 1,
      workerId: 'w1',
      startedAt: T,
      durationMs: 5,
      outcome: 'retry',
      category: 'network',
      message: 'reset',
      ...over,
    });
    const enqueueOne = async () => (await store.enqueue([job()], T))[0]!.id;
    const fault = { category: 'validation' as const, message: 'bad item', suggestions: ['fix it'] };

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await options.cleanup?.(store);
      await store.close();
    });

    it('enqueues in order, reports waiting and delayed, and a fresh queue reads as zeros', async () => {
      expect(await store.stats('q', T)).toEqual({
        waiting: 0,
        delayed: 0,
        running: 0,
        completed: 0,
        dead: 0,
        pausedUntil: null,
        oldestWaitingSince: null,
      });
      const results = await store.enqueue(
        [job({ runAt: T - 50 }), job(), job({ runAt: T + 1_000 })],
        T - 100,
      );
      expect(results.map((r) => r.created)).toEqual([true, true, true]);
      expect(new Set(results.map((r) => r.id)).size).toBe(3);
      const stats = await store.stats('q', T);
      expect(stats).toMatchObject({
        waiting: 2,
        delayed: 1,
        running: 0,
        oldestWaitingSince: T - 50,
      });
      const stored = await store.getJob(results[2]!.id);
      expect(stored).toMatchObject({
        queue: 'q',
        state: 'waiting',
        payload: '{"n":1}',
        runAt: T + 1_000,
        enqueuedAt: T - 100,
        attempts: 0,
        history: [],
      });
      expect(await store.getJob('999999')).toBeUndefined();
      expect(await store.queues()).toEqual(['q']);
    });

    it('stores one job per idempotency key and queue, also within one call', async () => {
      const [a, b, c] = await store.enqueue(
        [
          job({ idempotencyKey: 'k' }),
          job({ idempotencyKey: 'k' }),
          job({ idempotencyKey: 'k', queue: 'other' }),
        ],
        T,
      );
      expect(b).toEqual({ id: a!.id, created: false });
      expect(c!.created).toBe(true);
      const [again] = await store.enqueue([job({ idempotencyKey: 'k', payload: '{"n":2}' })], T);
      expect(again).toEqual({ id: a!.id, created: false });
      expect((await store.stats('q', T)).waiting).toBe(1);
      expect((await store.getJob(a!.id))!.payload).toBe('{"n":1}');
    });

    it('claims by priority, then runAt, then enqueue order, up to the limit, never delayed jobs', async () => {
      const ids = (
        await store.enqueue(
          [
            job({ priority: 0 }),
            job({ priority: 5 }),
            job({ priority: 0, runAt: T - 10 }),
            job({ priority: 9, runAt: T + 10 }),
            job({ priority: 5 }),
          ],
          T - 20,
        )
      ).map((r) => r.id);
      const first = await claim({ limit: 3 });
      expect(first.map((j) => j.id)).toEqual([ids[1], ids[4], ids[2]]);
      expect(first[0]).toMatchObject({
        attempt: 1,
        leaseUntil: T + 1_000,
        queue: 'q',
        payload: '{"n":1}',
        priority: 5,
      });
      const second = await claim({ workerId: 'w2' });
      expect(second.map((j) => j.id)).toEqual([ids[0]]);
      expect(new Set([...first, ...second].map((j) => j.token)).size).toBeGreaterThanOrEqual(2);
      expect(first[0]!.token).not.toBe(second[0]!.token);
      expect((await claim({ now: T + 10 })).map((j) => j.id)).toEqual([ids[3]]);
      expect(await store.stats('q', T + 10)).toMatchObject({ waiting: 0, delayed: 0, running: 5 });
      expect(await claim({ queue: 'other' })).toEqual([]);
    });

    it('fences every write by token: a stale holder can neither settle, renew nor checkpoint', async () => {
      const id = await enqueueOne();
      const [a] = await claim();
      expect(
        (await store.settle([{ id, token: `${a!.token}x`, kind: 'complete' }], T)).lost,
      ).toEqual([id]);
      // The lease expires; another worker recovers and claims the job.
      const [b] = await claim({ workerId: 'w2', now: T + 1_000 });
      expect(b!.id).toBe(id);
      // The lost lease cost a strike, not an attempt.
      expect(b).toMatchObject({ attempt: 1, strikes: 1 });
      expect(await store.renew([{ id, token: a!.token }], 1_000, T + 1_001)).toEqual([id]);
      expect(await store.saveJobCheckpoint({ id, token: a!.token }, '{"at":1}', T + 1_001)).toBe(
        false,
      );
      expect(
        (await store.settle([{ id, token: a!.token, kind: 'complete' }], T + 1_001)).lost,
      ).toEqual([id]);
      expect(await store.renew([{ id, token: b!.token }], 5_000, T + 1_002)).toEqual([]);
      expect((await store.getJob(id))!.leaseUntil).toBe(T + 6_002);
      expect(await store.saveJobCheckpoint({ id, token: b!.token }, '{"at":2}', T + 1_002)).toBe(
        true,
      );
      expect(
        (await store.settle([{ id, token: b!.token, kind: 'complete' }], T + 1_003)).lost,
      ).toEqual([]);
      const done = await store.getJob(id);
      expect(done).toMatchObject({
        state: 'completed',
        finishedAt: T + 1_003,
        checkpoint: '{"at":2}',
        attempts: 1,
      });
      expect(done!.history).toEqual([
        expect.objectContaining({
          outcome: 'lease_lost',
          attempt: 1,
          workerId: 'w1',
          startedAt: T,
        }),
      ]);
      expect(
        (await store.settle([{ id, token: b!.token, kind: 'complete' }], T + 1_004)).lost,
      ).toEqual([id]);
    });

    it('renewing keeps a lease from expiring; an expired but untaken lease can still be settled', async () => {
      const id = await enqueueOne();
      const [a] = await claim();
      expect(await store.renew([{ id, token: a!.token }], 1_000, T + 900)).toEqual([]);
      expect(await claim({ workerId: 'w2', now: T + 1_500 })).toEqual([]);
      expect(
        (await store.settle([{ id, token: a!.token, kind: 'complete' }], T + 2_500)).lost,
      ).toEqual([]);
    });

    it('dead-letters a job that keeps killing its worker (crash-loop limit)', async () => {
      const id = await enqueueOne();
      let now = T;
      for (let i = 1; i <= 2; i++) {
        const [j] = await claim({ now, maxStrikes: 2 });
        // Crashes are strikes, not attempts: every run is the first attempt.
        expect(j).toMatchObject({ attempt: 1, strikes: i - 1 });
        now += 1_000;
      }
      expect(await claim({ now, maxStrikes: 2 })).toEqual([]);
      const [letter] = await store.listDead();
      expect(letter).toMatchObject({
        id,
        queue: 'q',
        attempts: 0,
        deadAt: now,
        fault: { category: 'resource' },
      });
      expect(letter!.history.map((h) => h.outcome)).toEqual(['lease_lost', 'lease_lost']);
      expect(await store.stats('q', now)).toMatchObject({ running: 0, dead: 1 });
    });

    it('a settle of any kind resets the crash-loop count', async () => {
      const id = await enqueueOne();
      await claim({ maxStrikes: 2 });
      const [j] = await claim({ now: T + 1_000, maxStrikes: 2 });
      await store.settle([{ id, token: j!.token, kind: 'release', refund: true }], T + 1_000);
      await claim({ now: T + 1_000, maxStrikes: 2 });
      const [again] = await claim({ now: T + 2_000, maxStrikes: 2 });
      expect(again?.id).toBe(id);
    });

    it('an unstarted release undoes the claim: no attempt, no strike, no history', async () => {
      const id = await enqueueOne();
      await claim({ maxStrikes: 2 });
      // The first claim's worker died: one strike.
      const [b] = await claim({ now: T + 1_000, maxStrikes: 2 });
      expect(b).toMatchObject({ attempt: 1, strikes: 1 });
      // This claim's reply came too late: handed back unstarted, with a record that must be ignored.
      const released = {
        id,
        token: b!.token,
        kind: 'release',
        refund: false,
        unstarted: true,
        record: record({ outcome: 'released' }),
      } as const;
      expect((await store.settle([released], T + 1_500)).lost).toEqual([]);
      const [c] = await claim({ now: T + 1_500, maxStrikes: 2 });
      expect(c).toMatchObject({ id, attempt: 1, strikes: 1 });
      expect((await store.getJob(id))!.history.map((h) => h.outcome)).toEqual(['lease_lost']);
      // A stale unstarted release is fenced like every other write.
      expect((await store.settle([released], T + 1_600)).lost).toEqual([id]);
    });

    it('a late unstarted hand-back of a claim already recovered takes back the strike it charged', async () => {
      const id = await enqueueOne();
      // A's claim is answered too late: its lease expired and B's claim recovered the job.
      const [a] = await claim({ workerId: 'a', maxStrikes: 2 });
      const [b] = await claim({ workerId: 'b', now: T + 1_000, maxStrikes: 2 });
      expect(b).toMatchObject({ id, strikes: 1 });
      // A hands its claim back unstarted: lost (B holds the job), but the strike A's claim cost is forgiven.
      expect(
        (
          await store.settle(
            [{ id, token: a!.token, kind: 'release', refund: false, unstarted: true }],
            T + 1_100,
          )
        ).lost,
      ).toEqual([id]);
      // B dies: the job has one strike (B's), not two, so with maxStrikes 2 it is not dead-lettered.
      const [c] = await claim({ workerId: 'c', now: T + 2_000, maxStrikes: 2 });
      expect(c).toMatchObject({ id, strikes: 1, attempt: 1 });
      // Only once: the same hand-back again, or one for an older claim, changes nothing.
      await store.settle(
        [{ id, token: a!.token, kind: 'release', refund: false, unstarted: true }],
        T + 2_100,
      );
      const [d] = await claim({ workerId: 'd', now: T + 3_000, maxStrikes: 3 });
      expect(d).toMatchObject({ id, strikes: 2 });
    });

    // A worker stopped by its store (disk full) writes its outcomes late, once the store heals:
    // it was alive, so the lost lease was no crash.
    it.each([
      [
        'a release of a run its worker stopped',
        { kind: 'release', refund: true, record: record({ outcome: 'released' }) },
      ],
      ['a completion', { kind: 'complete' }],
      ['a retry', { kind: 'retry', runAt: T, record: record() }],
      ['a dead letter', { kind: 'dead', fault, record: record({ outcome: 'dead' }) }],
    ] as const)(
      '%s that arrives after its lease was recovered takes back the strike it charged',
      async (_, outcome) => {
        const id = await enqueueOne();
        const [a] = await claim({ workerId: 'a', maxStrikes: 2 });
        const [b] = await claim({ workerId: 'b', now: T + 1_000, maxStrikes: 2 });
        expect(b).toMatchObject({ id, strikes: 1 });
        // A's outcome is fenced (B holds the job) but A was alive: its lost lease costs nothing.
        expect((await store.settle([{ id, token: a!.token, ...outcome }], T + 1_100)).lost).toEqual(
          [id],
        );
        expect(await store.getJob(id)).toMatchObject({ state: 'running' });
        // B dies: one strike (B's), not two, so with maxStrikes 2 the job is claimed, not dead.
        const [c] = await claim({ workerId: 'c', now: T + 2_000, maxStrikes: 2 });
        expect(c).toMatchObject({ id, strikes: 1, attempt: 1 });
      },
    );

    it("a late outcome and the current run's outcome in one batch: the run settles, nothing is forgiven twice", async () => {
      const id = await enqueueOne();
      const [a] = await claim({ workerId: 'a' });
      const [b] = await claim({ workerId: 'b', now: T + 1_000 });
      const result = await store.settle(
        [
          { id, token: a!.token, kind: 'release', refund: true },
          { id, token: b!.token, kind: 'retry', runAt: T + 5_000, record: record({ attempt: 1 }) },
        ],
        T + 1_100,
      );
      expect(result.lost).toEqual([id]);
      // The retry applied (and cleared every strike); the stale release changed nothing.
      const [c] = await claim({ now: T + 5_000 });
      expect(c).toMatchObject({ id, strikes: 0, attempt: 2 });
    });

    it('completions only: a late one next to the current one settles the current, a late one alone forgives', async () => {
      const ids = (await store.enqueue([job(), job()], T)).map((r) => r.id);
      const first = await claim({ workerId: 'a', limit: 2, maxStrikes: 2 });
      const again = await claim({ workerId: 'b', now: T + 1_000, limit: 2, maxStrikes: 2 });
      const token = (list: typeof first, id: string) => list.find((j) => j.id === id)!.token;
      const result = await store.settle(
        [
          { id: ids[0]!, token: token(first, ids[0]!), kind: 'complete' },
          { id: ids[0]!, token: token(again, ids[0]!), kind: 'complete' },
          { id: ids[1]!, token: token(first, ids[1]!), kind: 'complete' },
        ],
        T + 1_100,
      );
      expect(result.lost.sort()).toEqual([ids[0]!, ids[1]!].sort());
      expect((await store.getJob(ids[0]!))?.state).toBe('completed');
      // The second job's late completion took back its strike: B dies, one strike, not dead.
      const [c] = await claim({ workerId: 'c', now: T + 2_000, maxStrikes: 2 });
      expect(c).toMatchObject({ id: ids[1], strikes: 1 });
    });

    it('takes at most maxStruck jobs recovered after a crash, and takes later jobs in their place', async () => {
      const ids = (await store.enqueue([job(), job(), job(), job()], T)).map((r) => r.id);
      await claim({ limit: 2 });
      // The worker holding the first two died; they come back struck.
      const first = await claim({ now: T + 1_000, limit: 4, maxStruck: 1 });
      expect(first.map((j) => [j.id, j.strikes])).toEqual([
        [ids[0], 1],
        [ids[2], 0],
        [ids[3], 0],
      ]);
      expect(await claim({ now: T + 1_000, limit: 4, maxStruck: 0 })).toEqual([]);
      const second = await claim({ now: T + 1_000, limit: 4, maxStruck: 1 });
      expect(second.map((j) => [j.id, j.strikes])).toEqual([[ids[1], 1]]);
    });

    it(`keeps the first attempt record and the newest ${HISTORY_LIMIT - 1} (bounded history)`, async () => {
      const id = await enqueueOne();
      let now = T;
      const runs = HISTORY_LIMIT + 12;
      for (let n = 1; n <= runs; n++) {
        const [j] = await claim({ now });
        // Every third run is lost with its worker, so recovery appends records too.
        if (n % 3 === 0) {
          now += 1_000;
          continue;
        }
        await store.settle(
          [
            {
              id,
              token: j!.token,
              kind: 'retry',
              runAt: now,
              record: record({ attempt: n, message: `run ${n}` }),
            },
          ],
          now,
        );
      }
      const history = (await store.getJob(id))!.history;
      expect(history).toHaveLength(HISTORY_LIMIT);
      expect(history[0]).toMatchObject({ attempt: 1, message: 'run 1' });
      expect(history.at(-1)).toMatchObject({ message: `run ${runs - (runs % 3 === 0 ? 1 : 0)}` });
    });

    it('retries at runAt with the attempt recorded; release with refund does not charge the attempt', async () => {
      const id = await enqueueOne();
      const [a] = await claim();
      await store.settle(
        [{ id, token: a!.token, kind: 'retry', runAt: T + 500, record: record() }],
        T + 10,
      );
      expect(await store.stats('q', T + 10)).toMatchObject({ waiting: 0, delayed: 1, running: 0 });
      expect(await claim({ now: T + 499 })).toEqual([]);
      const [b] = await claim({ now: T + 500 });
      expect(b!.attempt).toBe(2);
      await store.settle(
        [
          {
            id,
            token: b!.token,
            kind: 'release',
            refund: true,
            record: record({ attempt: 2, outcome: 'released' }),
          },
        ],
        T + 600,
      );
      const [c] = await claim({ now: T + 600 });
      expect(c!.attempt).toBe(2);
      await store.settle(
        [{ id, token: c!.token, kind: 'release', refund: false, runAt: T + 700 }],
        T + 650,
      );
      const [d] = await claim({ now: T + 700 });
      expect(d!.attempt).toBe(3);
      expect((await store.getJob(id))!.history.map((h) => h.outcome)).toEqual([
        'retry',
        'released',
      ]);
    });

    it('settles a mixed batch atomically and reports only the lost ones', async () => {
      const ids = (await store.enqueue([job(), job(), job(), job()], T)).map((r) => r.id);
      const claimed = await claim();
      const token = (id: string) => claimed.find((j) => j.id === id)!.token;
      const { lost } = await store.settle(
        [
          { id: ids[0]!, token: token(ids[0]!), kind: 'complete' },
          {
            id: ids[1]!,
            token: token(ids[1]!),
            kind: 'dead',
            fault,
            record: record({ outcome: 'dead', category: 'validation' }),
          },
          { id: ids[2]!, token: 'nope', kind: 'complete' },
          { id: ids[3]!, token: token(ids[3]!), kind: 'retry', runAt: T, record: record() },
        ],
        T + 5,
      );
      expect(lost).toEqual([ids[2]]);
      expect(await store.stats('q', T + 5)).toMatchObject({
        waiting: 1,
        running: 1,
        completed: 1,
        dead: 1,
      });
    });

    it('keeps dead letters as records: fault, history, checkpoint; filters and orders them newest first', async () => {
      const ids = (await store.enqueue([job(), job({ queue: 'r' }), job()], T)).map((r) => r.id);
      const claimed = [...(await claim()), ...(await claim({ queue: 'r' }))];
      const byId = new Map(claimed.map((j) => [j.id, j]));
      await store.saveJobCheckpoint(
        { id: ids[0]!, token: byId.get(ids[0]!)!.token },
        '{"cursor":7}',
        T,
      );
      const kill = (id: string, at: number, category: 'validation' | 'auth') =>
        store.settle(
          [
            {
              id,
              token: byId.get(id)!.token,
              kind: 'dead',
              fault: { ...fault, category },
              record: record({ outcome: 'dead', category }),
            },
          ],
          at,
        );
      await kill(ids[0]!, T + 100, 'validation');
      await kill(ids[1]!, T + 200, 'validation');
      await kill(ids[2]!, T + 300, 'auth');
      const all = await store.listDead();
      expect(all.map((d) => d.id)).toEqual([ids[2], ids[1], ids[0]]);
      expect(all[2]).toMatchObject({
        queue: 'q',
        payload: '{"n":1}',
        attempts: 1,
        deadAt: T + 100,
        checkpoint: '{"cursor":7}',
        fault,
      });
      expect(all[2]!.history).toEqual([record({ outcome: 'dead', category: 'validation' })]);
      expect((await store.listDead({ queue: 'q' })).map((d) => d.id)).toEqual([ids[2], ids[0]]);
      expect((await store.listDead({ category: 'validation' })).map((d) => d.id)).toEqual([
        ids[1],
        ids[0],
      ]);
      expect((await store.listDead({ olderThan: T + 200 })).map((d) => d.id)).toEqual([
        ids[1],
        ids[0],
      ]);
      expect((await store.listDead({ newerThan: T + 200 })).map((d) => d.id)).toEqual([
        ids[2],
        ids[1],
      ]);
      expect((await store.listDead({ limit: 1 })).map((d) => d.id)).toEqual([ids[2]]);
    });

    it('keeps job headers untouched from enqueue through claim, retries and requeue to the dead letter', async () => {
      const headers = JSON.stringify({
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'a=1,b=2',
        'x-tenant': 'ü',
      });
      const [withHeaders, without] = (
        await store.enqueue([job({ headers }), job({ priority: -1 })], T)
      ).map((r) => r.id);
      expect((await store.getJob(withHeaders!))!.headers).toBe(headers);
      expect((await store.getJob(without!))!.headers).toBeUndefined();
      const [first, plain] = await claim();
      expect(first).toMatchObject({ id: withHeaders, headers });
      expect(plain!.headers).toBeUndefined();
      await store.settle(
        [{ id: withHeaders!, token: first!.token, kind: 'retry', runAt: T, record: record() }],
        T,
      );
      const [second] = await claim({ limit: 1 });
      expect(second).toMatchObject({ id: withHeaders, attempt: 2, headers });
      await store.settle(
        [
          {
            id: withHeaders!,
            token: second!.token,
            kind: 'dead',
            fault,
            record: record({ attempt: 2, outcome: 'dead' }),
          },
        ],
        T + 1,
      );
      expect((await store.getJob(withHeaders!))!).toMatchObject({ state: 'dead', headers });
      expect(
        (await store.listDead({ queue: 'q' })).find((d) => d.id === withHeaders),
      ).toMatchObject({ headers });
      await store.requeueDead({ ids: [withHeaders!] }, { now: T + 2 });
      expect((await claim({ now: T + 2 })).find((j) => j.id === withHeaders)).toMatchObject({
        attempt: 1,
        headers,
      });
    });

    it('requeues dead letters by id or query, with a dry run, and refuses unknown ids writing nothing', async () => {
      const ids = (await store.enqueue([job(), job(), job()], T)).map((r) => r.id);
      for (const j of await claim()) {
        await store.settle(
          [{ id: j.id, token: j.token, kind: 'dead', fault, record: record({ outcome: 'dead' }) }],
          T + Number(j.id === ids[2]) * 100,
        );
      }
      await expect(
        store.requeueDead({ ids: [ids[0]!, 'no-such-id'] }, { now: T }),
      ).rejects.toBeInstanceOf(JobNotFoundError);
      await expect(store.requeueDead({ ids: [ids[0]!, '424242'] }, { now: T })).rejects.toThrow(
        /424242/,
      );
      expect((await store.stats('q', T)).dead).toBe(3);
      expect(await store.requeueDead({ ids: [ids[0]!] }, { now: T, dryRun: true })).toEqual([
        ids[0],
      ]);
      expect((await store.stats('q', T)).dead).toBe(3);
      expect(await store.requeueDead({ ids: [ids[0]!] }, { now: T + 1 })).toEqual([ids[0]]);
      const back = await store.getJob(ids[0]!);
      expect(back).toMatchObject({ state: 'waiting', attempts: 0, runAt: T + 1 });
      expect(back!.history).toHaveLength(1);
      expect(
        await store.requeueDead({ query: { olderThan: T + 50 } }, { now: T + 2, dryRun: true }),
      ).toEqual([ids[1]]);
      expect(await store.requeueDead({ query: { queue: 'q' } }, { now: T + 2 })).toEqual([
        ids[2],
        ids[1],
      ]);
      expect(await store.stats('q', T + 2)).toMatchObject({ waiting: 3, dead: 0 });
      await expect(store.requeueDead({ ids: [ids[0]!] }, { now: T })).rejects.toBeInstanceOf(
        JobNotFoundError,
      );
    });

    it('pages dead letters by keyset cursor, ties on deadAt and queues included, each exactly once', async () => {
      const ids = (
        await store.enqueue(
          [job(), job(), job(), job({ queue: 'r' }), job({ queue: 'r' }), job()],
          T,
        )
      ).map((r) => r.id);
      const claimed = [...(await claim()), ...(await claim({ queue: 'r' }))];
      // Two settle times shared by several letters of both queues: the order among ties must be stable.
      const at = (id: string) =>
        id === ids[5] ? T + 300 : T + 100 * (ids.indexOf(id) % 2 === 0 ? 1 : 2);
      for (const j of claimed)
        await store.settle(
          [{ id: j.id, token: j.token, kind: 'dead', fault, record: record({ outcome: 'dead' }) }],
          at(j.id),
        );
      const all = await store.listDead();
      expect(all).toHaveLength(6);
      expect(all[0]!.id).toBe(ids[5]);
      for (const size of [1, 2, 4]) {
        const seen: string[] = [];
        let before: { deadAt: number; id: string } | undefined;
        for (let page = 0; page < 10; page++) {
          const letters = await store.listDead({ limit: size, ...(before ? { before } : {}) });
          seen.push(...letters.map((d) => d.id));
          if (letters.length < size) break;
          const last = letters[letters.length - 1]!;
          before = { deadAt: last.deadAt, id: last.id };
        }
        expect(seen).toEqual(all.map((d) => d.id));
      }
      const cursor = { deadAt: all[1]!.deadAt, id: all[1]!.id };
      expect((await store.listDead({ before: cursor, queue: 'q' })).map((d) => d.id)).toEqual(
        all
          .slice(2)
          .filter((d) => d.queue === 'q')
          .map((d) => d.id),
      );
      expect(
        (await store.listDead({ before: cursor, olderThan: T + 100 })).map((d) => d.id),
      ).toEqual(all.filter((d) => d.deadAt <= T + 100).map((d) => d.id));
      expect(
        await store.requeueDead({ query: { before: cursor, limit: 2 } }, { now: T, dryRun: true }),
      ).toEqual(all.slice(2, 4).map((d) => d.id));
    });

    it('finds dead letters by text in their message (ASCII case ignored), counts them by category, requeues and purges by text', async () => {
      const ids = (await store.enqueue([job(), job(), job(), job({ queue: 'r' })], T)).map(
        (r) => r.id,
      );
      const claimed = [...(await claim()), ...(await claim({ queue: 'r' }))];
      const faults = [
        { category: 'rate_limit' as const, message: 'HTTP 429 Too Many Requests', suggestions: [] },
        { category: 'rate_limit' as const, message: 'too many requests (quota)', suggestions: [] },
        { category: 'validation' as const, message: 'Bad item <script>%_ ÉTÉ', suggestions: [] },
        { category: 'rate_limit' as const, message: 'slow down', suggestions: [] },
      ];
      for (const j of claimed) {
        const i = ids.indexOf(j.id);
        await store.settle(
          [
            {
              id: j.id,
              token: j.token,
              kind: 'dead',
              fault: faults[i]!,
              record: record({ outcome: 'dead' }),
            },
          ],
          T + i,
        );
      }
      expect((await store.listDead({ text: 'MANY requests' })).map((d) => d.id)).toEqual([
        ids[1],
        ids[0],
      ]);
      expect((await store.listDead({ text: '%_' })).map((d) => d.id)).toEqual([ids[2]]);
      expect((await store.listDead({ text: '<script>' })).map((d) => d.id)).toEqual([ids[2]]);
      expect((await store.listDead({ text: 'été' })).map((d) => d.id)).toEqual([]);
      expect(
        (await store.listDead({ text: 'ÉTÉ', category: 'validation' })).map((d) => d.id),
      ).toEqual([ids[2]]);
      expect((await store.listDead({ text: 'many', queue: 'r' })).map((d) => d.id)).toEqual([]);
      expect(await store.countDeadByCategory()).toEqual([
        { category: 'rate_limit', count: 3 },
        { category: 'validation', count: 1 },
      ]);
      expect(await store.countDeadByCategory({ queue: 'q' })).toEqual([
        { category: 'rate_limit', count: 2 },
        { category: 'validation', count: 1 },
      ]);
      expect(await store.countDeadByCategory({ text: 'many', limit: 1 })).toEqual([
        { category: 'rate_limit', count: 2 },
      ]);
      expect(await store.countDeadByCategory({ newerThan: T + 2, olderThan: T + 3 })).toEqual([
        { category: 'rate_limit', count: 1 },
        { category: 'validation', count: 1 },
      ]);
      expect(await store.requeueDead({ query: { text: 'too many' } }, { now: T + 10 })).toEqual([
        ids[1],
        ids[0],
      ]);
      expect(await store.countDeadByCategory()).toEqual([
        { category: 'rate_limit', count: 1 },
        { category: 'validation', count: 1 },
      ]);
      expect(await store.purgeDead({ text: 'down', newerThan: T + 3 })).toBe(1);
      expect(await store.purgeDead({ text: 'bad', newerThan: T + 3 })).toBe(0);
      expect(await store.countDeadByCategory()).toEqual([{ category: 'validation', count: 1 }]);
    });

    it('counts finished jobs per time bucket, completed and dead apart, per queue or for all', async () => {
      await store.enqueue([job(), job(), job(), job(), job({ queue: 'r' })], T);
      const claimed = [...(await claim()), ...(await claim({ queue: 'r' }))];
      const times = [T + 5, T + 999, T + 1_000, T + 2_500, T + 1_500];
      for (const [i, j] of claimed.entries()) {
        const outcome =
          i === 3
            ? ({ kind: 'dead', fault, record: record({ outcome: 'dead' }) } as const)
            : ({ kind: 'complete' } as const);
        await store.settle([{ id: j.id, token: j.token, ...outcome }], times[i]!);
      }
      expect(await store.finishedPerBucket({ since: T, bucketMs: 1_000, buckets: 3 })).toEqual({
        completed: [2, 2, 0],
        dead: [0, 0, 1],
      });
      expect(
        await store.finishedPerBucket({ queue: 'q', since: T, bucketMs: 1_000, buckets: 2 }),
      ).toEqual({ completed: [2, 1], dead: [0, 0] });
      expect(
        await store.finishedPerBucket({ queue: 'none', since: T, bucketMs: 500, buckets: 1 }),
      ).toEqual({ completed: [0], dead: [0] });
      await expect(store.finishedPerBucket({ since: T, bucketMs: 0, buckets: 3 })).rejects.toThrow(
        /bucketMs/,
      );
      await expect(
        store.finishedPerBucket({ since: T, bucketMs: 1, buckets: 100_000 }),
      ).rejects.toThrow(/buckets/);
    });

    it('purges dead letters by age and keeps the newest N', async () => {
      await store.enqueue([job(), job(), job(), job()], T);
      let at = T;
      for (const j of await claim()) {
        at += 100;
        await store.settle(
          [{ id: j.id, token: j.token, kind: 'dead', fault, record: record({ outcome: 'dead' }) }],
          at,
        );
      }
      expect(await store.purgeDead({ olderThan: T + 100 })).toBe(1);
      expect(await store.purgeDead({ queue: 'q', keepNewest: 2 })).toBe(1);
      expect((await store.listDead()).map((d) => d.deadAt)).toEqual([T + 400, T + 300]);
    });

    it('applies retention to completed jobs and dead letters, by age and by count', async () => {
      await store.enqueue([job(), job(), job(), job(), job()], T);
      const claimed = await claim();
      for (const [i, j] of claimed.entries()) {
        const outcome =
          i < 3
            ? ({ kind: 'complete' } as const)
            : ({ kind: 'dead', fault, record: record({ outcome: 'dead' }) } as const);
        await store.settle([{ id: j.id, token: j.token, ...outcome }], T + i * 1_000);
      }
      const removed = await store.prune(
        {
          completed: { maxAgeMs: 1_500, maxCount: Number.POSITIVE_INFINITY },
          dead: { maxAgeMs: Number.POSITIVE_INFINITY, maxCount: 1 },
        },
        T + 2_000,
      );
      expect(removed).toEqual({ completed: 1, dead: 1 });
      expect(await store.stats('q', T + 2_000)).toMatchObject({ completed: 2, dead: 1 });
      expect(await store.getJob(claimed[0]!.id)).toBeUndefined();
      expect((await store.listDead())[0]!.deadAt).toBe(T + 4_000);
    });

    it('pauses a queue until a time or until resumed, never shortening a pause unless asked', async () => {
      await store.enqueue([job(), job({ queue: 'other' })], T);
      await store.pause('q', T + 1_000, T);
      expect(await claim()).toEqual([]);
      expect(await claim({ queue: 'other' })).toHaveLength(1);
      expect((await store.stats('q', T)).pausedUntil).toBe(T + 1_000);
      await store.pause('q', T + 500, T);
      expect((await store.stats('q', T)).pausedUntil).toBe(T + 1_000);
      await store.pause('q', T + 500, T, true);
      expect((await store.stats('q', T)).pausedUntil).toBe(T + 500);
      expect(await claim({ now: T + 500 })).toHaveLength(1);
      expect((await store.stats('q', T + 500)).pausedUntil).toBeNull();
      await store.pause('q', null, T + 600);
      expect((await store.stats('q', T + 10_000_000)).pausedUntil).toBe(Number.POSITIVE_INFINITY);
      await store.resume('q');
      expect((await store.stats('q', T)).pausedUntil).toBeNull();
      await store.pause('empty', null, T);
      expect(await store.queues()).toEqual(['empty', 'other', 'q']);
    });

    it('keeps checkpoints by key: put replaces, list by prefix in key order, delete reports', async () => {
      expect(await store.getCheckpoint('crawl:a')).toBeUndefined();
      await store.putCheckpoint('crawl:b', '{"page":1}', T);
      await store.putCheckpoint('crawl:a', '{"page":1}', T);
      await store.putCheckpoint('upload:x', '[1,2]', T);
      await store.putCheckpoint('crawl:b', '{"page":2}', T + 5);
      expect(await store.getCheckpoint('crawl:b')).toEqual({
        key: 'crawl:b',
        value: '{"page":2}',
        updatedAt: T + 5,
      });
      expect((await store.listCheckpoints('crawl:')).map((c) => c.key)).toEqual([
        'crawl:a',
        'crawl:b',
      ]);
      expect(await store.listCheckpoints()).toHaveLength(3);
      expect(await store.deleteCheckpoint('crawl:a')).toBe(true);
      expect(await store.deleteCheckpoint('crawl:a')).toBe(false);
      await store.ping();
    });

    it('lists the workers holding live leases per queue, and forgets a lease once settled or expired', async () => {
      // Every store of the project implements this optional method.
      expect(store.leaseHolders).toBeTypeOf('function');
      const holders = (now: number) => store.leaseHolders!(now);
      expect(await holders(T)).toEqual([]);
      await store.enqueue(
        [job(), job(), job(), job({ queue: 'other' }), job({ queue: 'other' })],
        T,
      );
      const a = await claim({ workerId: 'w-b', limit: 2 });
      await claim({ workerId: 'w-a', limit: 1, leaseMs: 5_000 });
      const other = await claim({ queue: 'other', workerId: 'w-b', limit: 2 });
      expect(await holders(T)).toEqual([
        { queue: 'other', workerId: 'w-b', jobs: 2 },
        { queue: 'q', workerId: 'w-a', jobs: 1 },
        { queue: 'q', workerId: 'w-b', jobs: 2 },
      ]);
      // Settled jobs hold no lease; a lease past its leaseUntil is not live (though not recovered yet).
      await store.settle(
        [
          { kind: 'complete', id: a[0]!.id, token: a[0]!.token },
          { kind: 'dead', id: other[0]!.id, token: other[0]!.token, fault, record: record() },
        ],
        T,
      );
      expect(await holders(T + 10)).toEqual([
        { queue: 'other', workerId: 'w-b', jobs: 1 },
        { queue: 'q', workerId: 'w-a', jobs: 1 },
        { queue: 'q', workerId: 'w-b', jobs: 1 },
      ]);
      expect(await holders(T + 1_000)).toEqual([{ queue: 'q', workerId: 'w-a', jobs: 1 }]);
      expect(await holders(T + 5_000)).toEqual([]);
    });

    if (options.stateMachine !== false) describeStateMachine(() => store);
  });
}
