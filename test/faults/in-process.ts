import { Queue } from '../../src/durable/queue.js';
import type { ClaimedJob, DurableStore } from '../../src/durable/store.js';
import { Worker } from '../../src/durable/worker.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import type { Clock } from '../../src/time/clock.js';
import { freezable } from '../durable/freezable-store.js';
import type { ScenarioReport } from './harness.js';
import { judge } from './invariants.js';
import type { RunEntry } from './ledger.js';
import { enqueueProbes } from './probes.js';

/**
 * The fault harness for the memory store, which lives in one process: several `Worker`s in
 * this process share one MemoryStore, all on one virtual clock, and the same ledger entries
 * and invariants (`judge`) as the process harness decide the verdict. Time is virtual, so a
 * scenario of many leases costs well under a second of real time.
 */

const QUEUE = 'faults';
/** How far the virtual clock moves per step; every timer still fires at its own time. */
const STEP_MS = 10;

export interface InProcessContext {
  /**
   * The store stops answering: calls are held and answered in order on thaw, each with the
   * `now` its sender put in it (a frozen server answering its socket's backlog).
   */
  freeze(): void;
  thaw(): Promise<void>;
  /**
   * Abandons a random running worker as a crash would (never the last one): from now on none
   * of its store calls arrives and no reply reaches it, so its leases are neither renewed nor
   * released, and its handlers write nothing more. A replacement worker starts. False when
   * fewer than two workers run.
   */
  kill(): boolean;
  /** Steps the first worker's wall clock to `offsetMs` from true time (monotonic time never jumps). */
  skew(offsetMs: number): void;
  /** Marks the heal and enqueues the resume probes, as in the process harness. */
  healed(): void;
  /** Resolves after `ms` of virtual time. */
  wait(ms: number): Promise<void>;
}

export interface InProcessScenario {
  readonly name: string;
  readonly jobs: number;
  readonly workers: number;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly workMs: number;
  /** The workers' crash-loop limit (unset: the default, 3). */
  readonly maxStrikes?: number;
  readonly inject: (ctx: InProcessContext) => Promise<void>;
  /** Give up after this much virtual time (ms). */
  readonly deadlineMs: number;
}

export interface InProcessReport extends ScenarioReport {
  /** `elapsedMs` is virtual time; this is what the run cost in real time. */
  readonly realMs: number;
  /** Seed of the handlers' work times: the same seed replays the same scenario. */
  readonly seed: number;
}

/** A small seeded generator (mulberry32), so that a failing round can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A view of the store that can be cut off: nothing sent after the cut arrives, no reply gets back. */
function severable(inner: DurableStore): { store: DurableStore; sever(): void } {
  let severed = false;
  const never = new Promise<never>(() => {});
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (severed) return never;
        const result: unknown = value.apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.then(
          (reply) => (severed ? never : reply),
          (error: unknown) => (severed ? never : Promise.reject(error)),
        );
      };
    },
  });
  return {
    store,
    sever: () => {
      severed = true;
    },
  };
}

export async function runInProcess(
  scenario: InProcessScenario,
  seed: number = Math.floor(Math.random() * 2 ** 31),
): Promise<InProcessReport> {
  const realStart = Date.now();
  const random = seeded(seed);
  const clock = new VirtualClock({ wallStart: Date.UTC(2026, 0, 1) });
  const memory = new MemoryStore();
  // The lease end each claim was given, in the store's frame (the claimant's wall clock).
  const leaseEnds = new Map<string, number>();
  const claim = memory.claim.bind(memory);
  memory.claim = async (request) => {
    const jobs: ClaimedJob[] = await claim(request);
    for (const job of jobs) leaseEnds.set(`${job.id} ${job.token}`, job.leaseUntil);
    return jobs;
  };
  const frozen = freezable(memory);
  const direct = new Queue<{ n: number; poison?: boolean }>(memory, QUEUE, { clock });
  const enqueued = await direct.enqueueMany(
    Array.from({ length: scenario.jobs }, (_, n) => ({ payload: { n } })),
  );
  const ids = enqueued.map((r) => r.id);

  const runs: RunEntry[] = [];
  const kills = new Map<string, number>();
  const live = new Map<string, { worker: Worker<{ n: number }>; sever(): void }>();
  const all: Worker<{ n: number }>[] = [];
  let generation = 0;
  let skewMs = 0;

  const startWorker = () => {
    const name = `w${++generation}`;
    // Only the first worker's wall clock can be stepped.
    const offset = generation === 1 ? () => skewMs : () => 0;
    const workerClock: Clock = {
      now: () => clock.now(),
      wallTime: () => clock.wallTime() + offset(),
      sleep: (ms, signal, options) => clock.sleep(ms, signal, options),
      schedule: (ms, callback, options) => clock.schedule(ms, callback, options),
    };
    const line = severable(frozen.store);
    const worker = new Worker(
      new Queue<{ n: number }>(line.store, QUEUE, { clock: workerClock }),
      async (_payload, ctx) => {
        // A crashed worker starts nothing and records nothing.
        if (kills.has(name)) return;
        const { id, token } = ctx.job;
        const run: RunEntry = {
          job: id,
          worker: name,
          token,
          attempt: ctx.attempt,
          leaseEnd: leaseEnds.get(`${id} ${token}`) ?? 0,
          // True time: every worker's runs on one time line (the store's lease ends are in
          // that frame too, but for the stepped worker's own claims).
          start: clock.wallTime(),
          end: undefined,
        };
        runs.push(run);
        await clock
          .sleep(Math.round(scenario.workMs * (0.5 + random())), ctx.signal)
          .catch(() => undefined);
        if (!kills.has(name)) run.end = clock.wallTime();
      },
      {
        clock: workerClock,
        workerId: name,
        concurrency: scenario.concurrency,
        leaseMs: scenario.leaseMs,
        ...(scenario.maxStrikes === undefined ? {} : { maxStrikes: scenario.maxStrikes }),
      },
    );
    live.set(name, { worker, sever: line.sever });
    all.push(worker);
    worker.start();
  };

  let healedAt: number | undefined;
  const probeWrites: Promise<void>[] = [];
  let probesPending = 0;
  const ctx: InProcessContext = {
    freeze: () => frozen.freeze(),
    thaw: () => frozen.thaw(),
    kill: () => {
      if (live.size < 2) return false;
      const names = [...live.keys()];
      const victim = names[Math.floor(random() * names.length)]!;
      live.get(victim)!.sever();
      live.delete(victim);
      kills.set(victim, clock.wallTime());
      startWorker();
      return true;
    },
    skew: (offsetMs) => {
      skewMs = offsetMs;
    },
    healed: () => {
      healedAt = clock.wallTime();
      probesPending++;
      probeWrites.push(
        enqueueProbes(direct, ids.length).then((probeIds) => {
          ids.push(...probeIds);
          probesPending--;
        }),
      );
    },
    wait: (ms) => clock.sleep(ms),
  };

  for (let i = 0; i < scenario.workers; i++) startWorker();
  const started = clock.now();
  let faultOver = false;
  const fault = scenario.inject(ctx).finally(() => {
    faultOver = true;
  });
  const deadline = started + scenario.deadlineMs;
  while (clock.now() < deadline) {
    await clock.advance(STEP_MS);
    if (!faultOver || probesPending > 0 || clock.now() % 100 !== 0) continue;
    const counts = await direct.stats();
    if (counts.completed + counts.dead === ids.length) break;
  }
  const elapsedMs = clock.now() - started;
  // A fault script that outlives the deadline runs on (bounded: a script stuck forever is a bug).
  for (let i = 0; !faultOver; i++) {
    if (i > 100_000) throw new Error(`${scenario.name}: the fault script never ended`);
    await clock.advance(STEP_MS);
  }
  await fault;
  await Promise.all(probeWrites);

  // Stop every worker, the abandoned ones included (their stop gives up at its deadline).
  let stopped = 0;
  for (const worker of all)
    void worker.stop({ deadlineMs: 1_000 }).finally(() => {
      stopped++;
    });
  for (let i = 0; i < 1_000 && stopped < all.length; i++) await clock.advance(STEP_MS);

  const completed = new Set<string>();
  const dead = new Set<string>();
  const pending = new Set<string>();
  for (const id of ids) {
    const job = await memory.getJob(id);
    if (job?.state === 'completed') completed.add(id);
    else if (job?.state === 'dead') dead.add(id);
    else if (job !== undefined) pending.add(id);
  }
  const verdict = judge({
    ledger: { runs, kills },
    jobs: ids,
    completed,
    dead,
    pending,
    meantToDie: new Set(),
    ...(healedAt === undefined ? {} : { healedAt }),
  });
  return {
    scenario: scenario.name,
    store: 'memory',
    jobs: scenario.jobs,
    probes: ids.length - scenario.jobs,
    runs: runs.length,
    kills: kills.size,
    // Workers here are objects in one process: none can exit on its own.
    crashes: 0,
    completed: completed.size,
    dead: dead.size,
    elapsedMs,
    realMs: Date.now() - realStart,
    seed,
    ...verdict,
  };
}
