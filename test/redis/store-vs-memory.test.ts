import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimedJob, DurableStore, JobRecord, LeaseRef } from '../../src/durable/store.js';
import { MemoryStore } from '../../src/stores/memory/memory-store.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { connectShared, deletePrefix, uniquePrefix } from './shared-redis.js';

/**
 * Differential test: random command sequences run against the RedisStore and the MemoryStore
 * (the reference implementation of the store contract) must give the same answers.
 * Ids and tokens differ between stores, so both are mapped to the order they first appeared.
 */

const QUEUES = ['jobs', 'with space {and} braces: ü'];

type Command =
  | {
      op: 'enqueue';
      queue: number;
      jobs: { priority: number; delayMs: number; idem?: string; maxAttempts?: number }[];
    }
  | { op: 'claim'; queue: number; limit: number; leaseMs: number }
  | {
      op: 'settle';
      lease: number;
      kind: 'complete' | 'retry' | 'dead' | 'release';
      delayMs: number;
      refund: boolean;
    }
  | { op: 'renew'; lease: number }
  | { op: 'checkpoint'; lease: number }
  | { op: 'advance'; ms: number }
  | { op: 'pause'; queue: number; forMs: number | null; replace: boolean }
  | { op: 'resume'; queue: number }
  | { op: 'requeue'; job: number }
  | { op: 'prune'; maxCount: number; maxAgeMs: number }
  | { op: 'purge'; keepNewest: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('enqueue' as const),
      queue: fc.nat(1),
      jobs: fc.array(
        fc.record(
          {
            priority: fc.integer({ min: -2, max: 2 }),
            delayMs: fc.constantFrom(0, 0, 30, 150),
            idem: fc.constantFrom('a', 'b', 'c'),
            maxAttempts: fc.constantFrom(1, 3),
          },
          { requiredKeys: ['priority', 'delayMs'] },
        ),
        { minLength: 1, maxLength: 4 },
      ),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('claim' as const),
      queue: fc.nat(1),
      limit: fc.integer({ min: 1, max: 3 }),
      leaseMs: fc.constantFrom(50, 200),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('settle' as const),
      lease: fc.nat(20),
      kind: fc.constantFrom(
        'complete' as const,
        'retry' as const,
        'dead' as const,
        'release' as const,
      ),
      delayMs: fc.constantFrom(0, 40),
      refund: fc.boolean(),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('renew' as const), lease: fc.nat(20) }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('checkpoint' as const), lease: fc.nat(20) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(10, 60, 250) }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('pause' as const),
      queue: fc.nat(1),
      forMs: fc.constantFrom(null, 20, 100),
      replace: fc.boolean(),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('resume' as const), queue: fc.nat(1) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('requeue' as const), job: fc.nat(15) }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('prune' as const),
      maxCount: fc.constantFrom(1, 3),
      maxAgeMs: fc.constantFrom(50, 1000),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('purge' as const),
      keepNewest: fc.constantFrom(0, 1, 2),
    }),
    weight: 1,
  },
);

/** Maps one store's ids to the canonical numbering (order of first appearance). */
class IdMap {
  private readonly byId = new Map<string, number>();
  readonly ids: string[] = [];
  canon(id: string): number {
    let n = this.byId.get(id);
    if (n === undefined) {
      n = this.ids.length;
      this.byId.set(id, n);
      this.ids.push(id);
    }
    return n;
  }
}

function normalizeJob(job: JobRecord | undefined, ids: IdMap) {
  if (!job) return undefined;
  const { id, ...rest } = job;
  return { ...rest, id: ids.canon(id) };
}

function normalizeClaim(job: ClaimedJob, ids: IdMap) {
  const { id, token: _token, ...rest } = job;
  return { ...rest, id: ids.canon(id) };
}

describe('RedisStore behaves like the MemoryStore reference', () => {
  let client: Redis;
  const prefixes: string[] = [];
  beforeAll(async () => {
    client = await connectShared();
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deletePrefix(client, prefix);
    client.disconnect();
  });

  it('gives the same answers for random command sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (commands) => {
        const prefix = uniquePrefix('diff');
        prefixes.push(prefix);
        const stores: [DurableStore, DurableStore] = [
          new MemoryStore(),
          new RedisStore({ client, prefix }),
        ];
        const idMaps = [new IdMap(), new IdMap()];
        const leases: [LeaseRef, LeaseRef][] = [];
        let now = 1_700_000_000_000;
        const both = async <T>(call: (store: DurableStore, side: 0 | 1) => Promise<T>) =>
          Promise.all([call(stores[0], 0), call(stores[1], 1)]) as Promise<[T, T]>;
        for (const c of commands) {
          switch (c.op) {
            case 'enqueue': {
              const jobs = c.jobs.map((j, i) => ({
                queue: QUEUES[c.queue]!,
                payload: JSON.stringify({ i, j }),
                priority: j.priority,
                runAt: now + j.delayMs,
                ...(j.idem === undefined ? {} : { idempotencyKey: j.idem }),
                ...(j.maxAttempts === undefined ? {} : { maxAttempts: j.maxAttempts }),
              }));
              const [a, b] = await both((s) => s.enqueue(jobs, now));
              expect(b.map((r) => ({ ...r, id: idMaps[1]!.canon(r.id) }))).toEqual(
                a.map((r) => ({ ...r, id: idMaps[0]!.canon(r.id) })),
              );
              break;
            }
            case 'claim': {
              const [a, b] = await both((s) =>
                s.claim({
                  queue: QUEUES[c.queue]!,
                  workerId: 'w',
                  limit: c.limit,
                  leaseMs: c.leaseMs,
                  now,
                  maxStrikes: 2,
                }),
              );
              expect(b.map((j) => normalizeClaim(j, idMaps[1]!))).toEqual(
                a.map((j) => normalizeClaim(j, idMaps[0]!)),
              );
              for (const [i, job] of a.entries()) leases.push([job, b[i]!]);
              break;
            }
            case 'settle':
            case 'renew':
            case 'checkpoint': {
              const pair = leases[c.lease % Math.max(1, leases.length)];
              if (!pair) break;
              if (c.op === 'renew') {
                const [a, b] = await both((s, side) => s.renew([pair[side]], 100, now));
                expect(b.map((id) => idMaps[1]!.canon(id))).toEqual(
                  a.map((id) => idMaps[0]!.canon(id)),
                );
              } else if (c.op === 'checkpoint') {
                const [a, b] = await both((s, side) =>
                  s.saveJobCheckpoint(pair[side], `{"at":${now}}`, now),
                );
                expect(b).toBe(a);
              } else {
                const record = {
                  attempt: 1,
                  workerId: 'w',
                  startedAt: now,
                  durationMs: 1,
                  outcome:
                    c.kind === 'complete' ? 'retry' : c.kind === 'release' ? 'released' : c.kind,
                  category: 'network',
                  message: 'm',
                } as const;
                const fault = {
                  category: 'permanent' as const,
                  message: 'bad',
                  suggestions: ['fix it'],
                };
                const [a, b] = await both((s, side) => {
                  const ref = pair[side];
                  if (c.kind === 'complete') return s.settle([{ kind: 'complete', ...ref }], now);
                  if (c.kind === 'retry')
                    return s.settle(
                      [{ kind: 'retry', ...ref, runAt: now + c.delayMs, record }],
                      now,
                    );
                  if (c.kind === 'dead')
                    return s.settle([{ kind: 'dead', ...ref, fault, record }], now);
                  return s.settle(
                    [
                      {
                        kind: 'release',
                        ...ref,
                        refund: c.refund,
                        ...(c.delayMs ? { runAt: now + c.delayMs } : {}),
                      },
                    ],
                    now,
                  );
                });
                expect(b.lost.map((id) => idMaps[1]!.canon(id))).toEqual(
                  a.lost.map((id) => idMaps[0]!.canon(id)),
                );
              }
              break;
            }
            case 'advance':
              now += c.ms;
              break;
            case 'pause':
              await both((s) =>
                s.pause(QUEUES[c.queue]!, c.forMs === null ? null : now + c.forMs, now, c.replace),
              );
              break;
            case 'resume':
              await both((s) => s.resume(QUEUES[c.queue]!));
              break;
            case 'requeue': {
              const id0 = idMaps[0]!.ids[c.job];
              const id1 = idMaps[1]!.ids[c.job];
              if (id0 === undefined || id1 === undefined) break;
              const [a, b] = await both((s, side) =>
                s.requeueDead({ ids: [side === 0 ? id0 : id1] }, { now }).then(
                  (ids) => ids.length,
                  (e: Error) => e.name,
                ),
              );
              expect(b).toBe(a);
              break;
            }
            case 'prune': {
              const bound = { maxCount: c.maxCount, maxAgeMs: c.maxAgeMs };
              const [a, b] = await both((s) => s.prune({ completed: bound, dead: bound }, now));
              expect(b).toEqual(a);
              break;
            }
            case 'purge': {
              const [a, b] = await both((s) => s.purgeDead({ keepNewest: c.keepNewest }));
              expect(b).toBe(a);
              break;
            }
          }
          for (const queue of QUEUES) {
            const [a, b] = await both((s) => s.stats(queue, now));
            expect(b).toEqual(a);
          }
        }
        const [qa, qb] = await both((s) => s.queues());
        expect(qb).toEqual(qa);
        const [da, db] = await both((s) => s.listDead());
        expect(db.map((d) => ({ ...d, id: idMaps[1]!.canon(d.id) }))).toEqual(
          da.map((d) => ({ ...d, id: idMaps[0]!.canon(d.id) })),
        );
        for (let n = 0; n < idMaps[0]!.ids.length; n++) {
          const [a, b] = await both((s, side) => s.getJob(idMaps[side]!.ids[n]!));
          expect(normalizeJob(b, idMaps[1]!)).toEqual(normalizeJob(a, idMaps[0]!));
        }
        await stores[1].close();
      }),
      { numRuns: 150 },
    );
  });
});
