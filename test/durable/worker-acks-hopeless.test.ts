import { describe, expect, it } from 'vitest';
import type { DurableStore, Outcome, SettleResult } from '../../src/durable/store.js';
import { AckBatcher } from '../../src/durable/worker-acks.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/**
 * After a store fault that cannot heal (a full disk) the worker stops, but what its jobs
 * reported is still tried until its stop ends: a store that comes back in time hears of the
 * hand-backs, so the jobs it failed are not charged a crash.
 */
const RETRY_MS = 100;

class FailingStore {
  readonly writes: Outcome[][] = [];
  failuresLeft: number;
  constructor(failures: number) {
    this.failuresLeft = failures;
  }
  async settle(outcomes: readonly Outcome[]): Promise<SettleResult> {
    this.writes.push([...outcomes]);
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    }
    return { lost: [] };
  }
}

function batcher(store: FailingStore, hopeless: boolean, maxHopelessTries?: number) {
  const clock = new VirtualClock();
  const errors: unknown[] = [];
  const acks = new AckBatcher(
    store as unknown as DurableStore,
    clock,
    (error) => {
      errors.push(error);
      return hopeless;
    },
    RETRY_MS,
    3,
    maxHopelessTries,
  );
  return { acks, clock, errors };
}

const release = (id: string): Outcome => ({
  id,
  token: `t${id}`,
  kind: 'release',
  refund: true,
  unstarted: true,
});

/** Advances virtual time until `settled` has a value for every promise, or gives up. */
async function until(clock: VirtualClock, promises: Promise<boolean>[]): Promise<boolean[]> {
  const results: (boolean | undefined)[] = promises.map(() => undefined);
  promises.forEach((p, i) => void p.then((v) => (results[i] = v)));
  for (let i = 0; i < 200 && results.includes(undefined); i++) await clock.advance(RETRY_MS / 2);
  return results as boolean[];
}

describe('AckBatcher after a fault that cannot heal', () => {
  it('keeps trying, with what was reported meanwhile, and writes it all once the store heals', async () => {
    const store = new FailingStore(4);
    const { acks, clock, errors } = batcher(store, true);
    const first = acks.push(release('1'));
    // Wait for the first failed write, then report another outcome during the outage.
    for (let i = 0; i < 20 && store.writes.length === 0; i++) await clock.advance(1);
    const second = acks.push(release('2'));
    expect(await until(clock, [first, second])).toEqual([true, true]);
    expect(errors).toHaveLength(4);
    expect(store.writes.at(-1)!.map((o) => o.id)).toEqual(['1', '2']);
    // Once written, nothing more is tried.
    const writes = store.writes.length;
    await clock.advance(RETRY_MS * 10);
    expect(store.writes).toHaveLength(writes);
  });

  it('stops at close(): what is unwritten is dropped (the leases expire)', async () => {
    const store = new FailingStore(Number.POSITIVE_INFINITY);
    const { acks, clock } = batcher(store, true);
    const pending = acks.push(release('1'));
    for (let i = 0; i < 20 && store.writes.length < 2; i++) await clock.advance(RETRY_MS);
    acks.close();
    expect(await until(clock, [pending])).toEqual([false]);
    const writes = store.writes.length;
    await clock.advance(RETRY_MS * 10);
    expect(store.writes).toHaveLength(writes);
  });

  it('gives up after maxHopelessTries even if nobody closes it', async () => {
    const store = new FailingStore(Number.POSITIVE_INFINITY);
    const { acks, clock } = batcher(store, true, 5);
    expect(await until(clock, [acks.push(release('1'))])).toEqual([false]);
    expect(store.writes).toHaveLength(5);
  });

  it('a fault that can heal is still tried maxTries times only', async () => {
    const store = new FailingStore(Number.POSITIVE_INFINITY);
    const { acks, clock } = batcher(store, false);
    expect(await until(clock, [acks.push(release('1'))])).toEqual([false]);
    expect(store.writes).toHaveLength(3);
  });
});
