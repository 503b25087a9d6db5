import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { DurableStore } from '../../src/durable/store.js';

/**
 * A model-based test of the queue's state machine: random sequences of enqueue, claim,
 * settle (with current and stale tokens), renew, pause/resume, requeue and the passing of
 * time run against the store and against a tiny model of the contract; after every step the
 * store must agree with the model (claimed ids in order, lost ids, counts).
 */

const T0 = Date.UTC(2031, 0, 1);
const MAX_STRIKES = 2;

interface ModelJob {
  readonly id: string;
  readonly seq: number;
  readonly priority: number;
  runAt: number;
  state: 'waiting' | 'running' | 'completed' | 'dead';
  attempts: number;
  strikes: number;
  token?: string;
  leaseUntil?: number;
  oldTokens: string[];
  /** The token of the last lease recovered after it expired. */
  lostToken?: string;
}

interface Model {
  now: number;
  seq: number;
  jobs: ModelJob[];
  keys: Map<string, string>;
  pausedUntil: number | null;
}

interface Real {
  readonly store: DurableStore;
  readonly queue: string;
}

type Cmd = fc.AsyncCommand<Model, Real>;

async function checkCounts(m: Model, r: Real): Promise<void> {
  const stats = await r.store.stats(r.queue, m.now);
  const count = (pred: (j: ModelJob) => boolean) => m.jobs.filter(pred).length;
  expect({ ...stats, oldestWaitingSince: undefined, pausedUntil: undefined }).toEqual({
    waiting: count((j) => j.state === 'waiting' && j.runAt <= m.now),
    delayed: count((j) => j.state === 'waiting' && j.runAt > m.now),
    running: count((j) => j.state === 'running'),
    completed: count((j) => j.state === 'completed'),
    dead: count((j) => j.state === 'dead'),
    oldestWaitingSince: undefined,
    pausedUntil: undefined,
  });
}

class Enqueue implements Cmd {
  constructor(
    readonly priority: number,
    readonly delay: number,
    readonly key: string | undefined,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const [result] = await r.store.enqueue(
      [
        {
          queue: r.queue,
          payload: '{}',
          priority: this.priority,
          runAt: m.now + this.delay,
          ...(this.key ? { idempotencyKey: this.key } : {}),
        },
      ],
      m.now,
    );
    const existing = this.key === undefined ? undefined : m.keys.get(this.key);
    if (existing !== undefined) {
      expect(result).toEqual({ id: existing, created: false });
    } else {
      expect(result!.created).toBe(true);
      m.jobs.push({
        id: result!.id,
        seq: m.seq++,
        priority: this.priority,
        runAt: m.now + this.delay,
        state: 'waiting',
        attempts: 0,
        strikes: 0,
        oldTokens: [],
      });
      if (this.key) m.keys.set(this.key, result!.id);
    }
    await checkCounts(m, r);
  }
  toString = () => `enqueue(p${this.priority}, +${this.delay}${this.key ? `, ${this.key}` : ''})`;
}

class Claim implements Cmd {
  constructor(
    readonly limit: number,
    readonly leaseMs: number,
    readonly maxStruck: number | undefined,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const claimed = await r.store.claim({
      queue: r.queue,
      workerId: 'w',
      limit: this.limit,
      leaseMs: this.leaseMs,
      now: m.now,
      maxStrikes: MAX_STRIKES,
      ...(this.maxStruck === undefined ? {} : { maxStruck: this.maxStruck }),
    });
    let expected: ModelJob[] = [];
    if (m.pausedUntil === null || m.pausedUntil <= m.now) {
      for (const j of m.jobs) {
        if (j.state === 'running' && j.leaseUntil! <= m.now) {
          j.oldTokens.push(j.token!);
          j.lostToken = j.token;
          j.state = j.strikes >= MAX_STRIKES ? 'dead' : 'waiting';
          // A crash costs a strike, not an attempt.
          j.attempts = Math.max(0, j.attempts - 1);
        }
      }
      let struckLeft = this.maxStruck ?? Number.POSITIVE_INFINITY;
      expected = m.jobs
        .filter((j) => j.state === 'waiting' && j.runAt <= m.now)
        .sort((a, b) => b.priority - a.priority || a.runAt - b.runAt || a.seq - b.seq)
        .filter((j) => j.strikes === 0 || struckLeft-- > 0)
        .slice(0, this.limit);
    }
    expect(claimed.map((c) => c.id)).toEqual(expected.map((j) => j.id));
    for (const [i, j] of expected.entries()) {
      expect(claimed[i]!.strikes).toBe(j.strikes);
      j.state = 'running';
      j.attempts++;
      j.strikes++;
      j.token = claimed[i]!.token;
      j.leaseUntil = m.now + this.leaseMs;
      expect(claimed[i]!.attempt).toBe(j.attempts);
    }
    await checkCounts(m, r);
  }
  toString = () =>
    `claim(${this.limit}, lease ${this.leaseMs}${this.maxStruck === undefined ? '' : `, maxStruck ${this.maxStruck}`})`;
}

class Settle implements Cmd {
  constructor(
    readonly pick: number,
    readonly kind: 'complete' | 'retry' | 'dead' | 'release' | 'refund' | 'unstarted',
    readonly stale: boolean,
  ) {}
  check = (m: Readonly<Model>) =>
    m.jobs.some((j) => j.token !== undefined || j.oldTokens.length > 0);
  async run(m: Model, r: Real) {
    const candidates = m.jobs.filter((j) => j.token !== undefined || j.oldTokens.length > 0);
    const job = candidates[this.pick % candidates.length]!;
    const useStale = (this.stale && job.oldTokens.length > 0) || job.token === undefined;
    const token = useStale ? job.oldTokens[job.oldTokens.length - 1]! : job.token!;
    const lease = { id: job.id, token };
    const record = {
      attempt: job.attempts,
      workerId: 'w',
      startedAt: m.now,
      durationMs: 1,
      outcome: 'retry' as const,
    };
    const outcome =
      this.kind === 'complete'
        ? ({ ...lease, kind: 'complete' } as const)
        : this.kind === 'retry'
          ? ({ ...lease, kind: 'retry', runAt: m.now + 100, record } as const)
          : this.kind === 'dead'
            ? ({
                ...lease,
                kind: 'dead',
                fault: { category: 'permanent', message: 'x', suggestions: [] },
                record,
              } as const)
            : this.kind === 'unstarted'
              ? ({
                  ...lease,
                  kind: 'release',
                  refund: false,
                  unstarted: true,
                  record: { ...record, outcome: 'released' },
                } as const)
              : ({ ...lease, kind: 'release', refund: this.kind === 'refund' } as const);
    const { lost } = await r.store.settle([outcome], m.now);
    const applies = job.state === 'running' && job.token === token;
    expect(lost).toEqual(applies ? [] : [job.id]);
    if (
      !applies &&
      this.kind === 'unstarted' &&
      job.lostToken === token &&
      (job.state === 'waiting' || job.state === 'running')
    ) {
      // The claim the last recovery took away is handed back late: its strike is taken back.
      job.strikes = Math.max(0, job.strikes - 1);
      job.lostToken = undefined;
    }
    if (applies) {
      job.oldTokens.push(job.token!);
      job.lostToken = undefined;
      job.token = undefined;
      job.strikes = this.kind === 'unstarted' ? Math.max(0, job.strikes - 1) : 0;
      if (this.kind === 'complete') job.state = 'completed';
      else if (this.kind === 'dead') job.state = 'dead';
      else {
        job.state = 'waiting';
        job.runAt = this.kind === 'retry' ? m.now + 100 : m.now;
        if (this.kind === 'refund' || this.kind === 'unstarted')
          job.attempts = Math.max(0, job.attempts - 1);
      }
    }
    await checkCounts(m, r);
  }
  toString = () => `settle(#${this.pick}, ${this.kind}${this.stale ? ', stale' : ''})`;
}

class Renew implements Cmd {
  check = (m: Readonly<Model>) => m.jobs.some((j) => j.state === 'running');
  async run(m: Model, r: Real) {
    const running = m.jobs.filter((j) => j.state === 'running');
    const lost = await r.store.renew(
      running.map((j) => ({ id: j.id, token: j.token! })),
      1_000,
      m.now,
    );
    expect(lost).toEqual([]);
    for (const j of running) j.leaseUntil = m.now + 1_000;
  }
  toString = () => 'renew(all)';
}

class Advance implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    m.now += this.ms;
    await checkCounts(m, r);
  }
  toString = () => `advance(${this.ms})`;
}

class Pause implements Cmd {
  constructor(readonly forMs: number | null) {}
  check = () => true;
  async run(m: Model, r: Real) {
    if (this.forMs === null) {
      await r.store.resume(r.queue);
      m.pausedUntil = null;
    } else {
      await r.store.pause(r.queue, m.now + this.forMs, m.now, true);
      m.pausedUntil = m.now + this.forMs;
    }
    const paused = (await r.store.stats(r.queue, m.now)).pausedUntil;
    expect(paused).toBe(m.pausedUntil !== null && m.pausedUntil > m.now ? m.pausedUntil : null);
  }
  toString = () => (this.forMs === null ? 'resume()' : `pause(${this.forMs})`);
}

class RequeueAll implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    const ids = await r.store.requeueDead({ query: { queue: r.queue } }, { now: m.now });
    const dead = m.jobs.filter((j) => j.state === 'dead');
    expect([...ids].sort()).toEqual(dead.map((j) => j.id).sort());
    for (const j of dead)
      Object.assign(j, { state: 'waiting', attempts: 0, strikes: 0, runAt: m.now });
    await checkCounts(m, r);
  }
  toString = () => 'requeueDead(all)';
}

const commands = [
  fc
    .tuple(
      fc.integer({ min: -1, max: 2 }),
      fc.constantFrom(0, 0, 100, 1_000),
      fc.option(fc.constantFrom('a', 'b'), { freq: 3 }),
    )
    .map(([p, d, k]) => new Enqueue(p, d, k ?? undefined)),
  fc
    .tuple(
      fc.integer({ min: 1, max: 4 }),
      fc.constantFrom(500, 2_000),
      fc.constantFrom(undefined, 0, 1),
    )
    .map(([n, l, s]) => new Claim(n, l, s)),
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom('complete', 'retry', 'dead', 'release', 'refund', 'unstarted'),
      fc.boolean(),
    )
    .map(([i, k, s]) => new Settle(i, k as Settle['kind'], s)),
  fc.constant(new Renew()),
  fc.constantFrom(50, 600, 1_500).map((ms) => new Advance(ms)),
  fc.option(fc.constantFrom(300, 2_000), { freq: 2 }).map((ms) => new Pause(ms)),
  fc.constant(new RequeueAll()),
];

export function describeStateMachine(getStore: () => DurableStore): void {
  it('agrees with a model of the queue state machine over random command sequences (fast-check)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 40 }), async (cmds) => {
        const queue = `model-${run++}`;
        const setup = () => ({
          model: { now: T0, seq: 0, jobs: [], keys: new Map(), pausedUntil: null } as Model,
          real: { store: getStore(), queue },
        });
        await fc.asyncModelRun(setup, cmds);
      }),
      { numRuns: 100 },
    );
  }, 120_000);
}
