import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from '../../src/durable/queue.js';
import type { StoreAdapter } from './adapters.js';
import { judge, type Verdict } from './invariants.js';
import { readLedger } from './ledger.js';
import { enqueueProbes } from './probes.js';
import type { DestroyedVerdict } from './scenarios-sqlite-file.js';
import { ABORT_EXIT } from './sqlite-file-control.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.ts');
const QUEUE = 'faults';

/** What a scenario's fault script can do while the workers run. */
export interface FaultContext {
  readonly adapter: StoreAdapter;
  /** SIGKILLs a random running worker (logged in the ledger) and starts a replacement; false when none runs. */
  kill(): boolean;
  /**
   * Marks the moment the fault healed: the workers must resume within RESUME_BOUND_MS. Also
   * enqueues RESUME_PROBES fresh jobs, so there is work to resume even if the backlog is done.
   */
  healed(): void;
  /** Resolves after `ms` of real time (the fault runs against real processes). */
  wait(ms: number): Promise<void>;
  /** Whether every job is completed or dead (for a scenario that `destroys`: every worker exited). */
  done(): boolean;
  /** Marks the moment the fault struck (for a scenario that `destroys`: workers must stop after it). */
  faulted(): void;
  /** Writes the control file every worker process follows (sqlite-file-control.ts). */
  control(text: string): void;
  /** How many worker processes have exited with ABORT_EXIT so far. */
  aborts(): number;
}

export interface Scenario {
  readonly name: string;
  readonly jobs: number;
  readonly workers: number;
  readonly concurrency: number;
  /** Unset: the worker default (4 s). */
  readonly leaseMs?: number;
  readonly workMs: number;
  /** How many jobs kill their worker whenever they run (they are meant to be dead-lettered). */
  readonly poison?: number;
  /** The workers' crash-loop limit (unset: the default, 3). */
  readonly maxStrikes?: number;
  /** Poison jobs end their worker with `process.exit` instead of SIGKILL: a crash the harness must count. */
  readonly poisonExits?: boolean;
  readonly inject: (ctx: FaultContext) => Promise<void>;
  /** Give up after this long (ms). */
  readonly deadlineMs: number;
  /**
   * A worker that exits with ABORT_EXIT (a store fault that cannot heal stopped it, or its store
   * refused to open) is started again after this long, as a supervisor would. Unset: not restarted.
   */
  readonly restartAbortedMs?: number;
  /** Run workers as root without CAP_DAC_OVERRIDE, so that file permissions bind them. */
  readonly unprivileged?: boolean;
  /**
   * The fault destroys the store's data (its file deleted, replaced, corrupted): the scenario is
   * over once every worker has exited, and `judge` decides from the ledger and the exits instead
   * of auditing the store (scenarios-sqlite-file.ts).
   */
  readonly destroys?: { judge(run: DestroyedRun): Promise<DestroyedVerdict> };
}

/** What a scenario that `destroys` is judged on. */
export interface DestroyedRun {
  readonly adapter: StoreAdapter;
  readonly ledgerPath: string;
  readonly ids: readonly string[];
  readonly exits: readonly WorkerExit[];
  /** When the fault struck (FaultContext.faulted), wall ms. */
  readonly faultAt: number | undefined;
}

export interface WorkerExit {
  readonly worker: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
}

export interface ScenarioReport extends Verdict {
  readonly scenario: string;
  readonly store: string;
  readonly jobs: number;
  /** Jobs enqueued at the heal (RESUME_PROBES per heal), counted in `completed` and `lost` too. */
  readonly probes: number;
  readonly runs: number;
  readonly kills: number;
  /** Worker processes that exited on their own before the end (not a SIGKILL of the harness or a poison job). */
  readonly crashes: number;
  readonly completed: number;
  readonly dead: number;
  readonly elapsedMs: number;
  /** Worker exits with ABORT_EXIT (a store fault that cannot heal), when the scenario restarts them. */
  readonly aborted?: number;
  /** For a scenario that `destroys`: how the workers stopped, and what they reported. */
  readonly stopped?: DestroyedVerdict['stopped'];
  /**
   * Healthy (completed) jobs by the longest run of lost leases in their history, e.g. `{ "2": 4 }`:
   * how close a healthy job came to a crash-loop dead letter (it dies at `maxStrikes` + 1).
   */
  readonly leaseLostRuns?: Record<string, number>;
}

/** The longest the workers may take to start a handler again once a fault has healed. */
export const RESUME_BOUND_MS = 5_000;

export async function runScenario(
  adapter: StoreAdapter,
  scenario: Scenario,
): Promise<ScenarioReport> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-ledger-'));
  const ledgerPath = join(dir, 'ledger');
  writeFileSync(ledgerPath, '');
  const controlPath = join(dir, 'control');
  writeFileSync(controlPath, '');
  const exits: WorkerExit[] = [];
  let faultAt: number | undefined;
  const started = Date.now();
  const queue = new Queue<{ n: number; poison?: boolean }>(adapter.store, QUEUE);
  const poison = scenario.poison ?? 0;
  const results = await queue.enqueueMany(
    Array.from({ length: scenario.jobs }, (_, n) => ({
      payload: n < poison ? { n, poison: true } : { n },
    })),
  );
  const ids = results.map((r) => r.id);
  const meantToDie = new Set(ids.slice(0, poison));
  // Probe enqueues started at heals; the scenario is done only once they are written and run.
  const probeWrites: Promise<void>[] = [];
  let probesPending = 0;
  const live = new Map<string, ChildProcess>();
  // Workers that have started claiming: only these are killed (killing one still booting tests nothing).
  const running = new Set<string>();
  let generation = 0;
  let crashes = 0;
  let finished = false;
  let healedAt: number | undefined;

  const spawnWorker = () => {
    const name = `w${++generation}`;
    const node = [process.execPath, '--import', 'tsx', CHILD];
    const command = scenario.unprivileged
      ? ['setpriv', '--inh-caps=-dac_override', '--bounding-set=-dac_override', '--', ...node]
      : node;
    const child = spawn(command[0]!, command.slice(1), {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        FAULT_CONTROL: controlPath,
        ...(scenario.destroys ? { FAULT_OUTCOMES: '1' } : {}),
        FAULT_STORE: JSON.stringify(adapter.spec),
        FAULT_QUEUE: QUEUE,
        FAULT_LEDGER: ledgerPath,
        FAULT_WORKER: name,
        FAULT_CONCURRENCY: String(scenario.concurrency),
        FAULT_WORK_MS: String(scenario.workMs),
        ...(scenario.leaseMs === undefined ? {} : { FAULT_LEASE_MS: String(scenario.leaseMs) }),
        ...(scenario.poisonExits ? { FAULT_POISON_EXIT: '1' } : {}),
        ...(scenario.maxStrikes === undefined
          ? {}
          : { FAULT_MAX_STRIKES: String(scenario.maxStrikes) }),
      },
    });
    live.set(name, child);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      if (/^ready$/m.test(chunk)) {
        running.add(name);
        onReady();
      }
    });
    child.on('exit', (code, signal) => {
      live.delete(name);
      running.delete(name);
      exits.push({ worker: name, code, signal, at: Date.now() });
      if (finished) return;
      if (code === ABORT_EXIT) {
        // A store fault that cannot heal stopped it, as it should: not a crash. Restarted only
        // where the scenario heals the fault (as a supervisor would).
        if (scenario.restartAbortedMs !== undefined)
          setTimeout(() => {
            if (!finished) spawnWorker();
          }, scenario.restartAbortedMs);
        return;
      }
      // An exit without a SIGKILL is a crash (an unhandled error, a loop with nothing left alive):
      // counted, and replaced so the run goes on.
      if (signal !== 'SIGKILL') {
        crashes++;
        process.stderr.write(
          `fault harness: worker ${name} exited on its own (${signal ?? code})\n`,
        );
      }
      // A SIGKILL is in the ledger already (written when it was sent, or by a poison job itself):
      // this exit event may come much later on a loaded machine.
      spawnWorker();
    });
  };

  // The fault is injected only once the first workers run (a worker process takes a while to start).
  let ready = 0;
  let allReady!: () => void;
  const workersReady = new Promise<void>((resolve) => {
    allReady = resolve;
  });
  const onReady = () => {
    if (++ready === scenario.workers) allReady();
  };
  let doneFlag = false;
  const ctx: FaultContext = {
    adapter,
    kill: () => {
      // Never the last running worker: the point is work interrupted while other workers go on.
      if (running.size < 2) return false;
      const names = [...running];
      const victim = names[Math.floor(Math.random() * names.length)];
      if (victim === undefined) return false;
      running.delete(victim);
      appendFileSync(ledgerPath, `K ${victim} ${Date.now()}\n`);
      live.get(victim)!.kill('SIGKILL');
      return true;
    },
    healed: () => {
      healedAt = Date.now();
      probesPending++;
      probeWrites.push(
        enqueueProbes(queue, ids.length).then((probeIds) => {
          ids.push(...probeIds);
          probesPending--;
        }),
      );
    },
    wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    done: () => doneFlag,
    faulted: () => {
      faultAt = Date.now();
    },
    control: (text) => writeFileSync(controlPath, text),
    aborts: () => exits.filter((e) => e.code === ABORT_EXIT).length,
  };

  try {
    for (let i = 0; i < scenario.workers; i++) spawnWorker();
    if (process.env.FAULTLINE_FAULTS_KEEP) {
      const heal = ctx.healed;
      ctx.healed = () => {
        heal();
        appendFileSync(ledgerPath, `H ${healedAt}\n`);
      };
    }
    await Promise.race([workersReady, ctx.wait(scenario.deadlineMs / 2)]);
    let faultOver = false;
    const fault = scenario.inject(ctx).finally(() => {
      faultOver = true;
    });
    const deadline = started + scenario.deadlineMs;
    // Poll the store (a bounded loop: the workers are other processes). Not done before the
    // fault script has ended and its probes have run.
    while (Date.now() < deadline) {
      if (scenario.destroys) {
        // Nothing to audit: over once every worker has stopped.
        doneFlag = live.size === 0;
        if (doneFlag && faultOver) break;
        await ctx.wait(100);
        continue;
      }
      try {
        const counts = await queue.stats();
        doneFlag = probesPending === 0 && counts.completed + counts.dead === ids.length;
      } catch {
        doneFlag = false; // the server may be frozen or restarting
      }
      if (doneFlag && faultOver) break;
      await ctx.wait(200);
    }
    await fault;
    await Promise.all(probeWrites);
    finished = true;
    await Promise.all(
      [...live.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    if (scenario.destroys) {
      const judged = await scenario.destroys.judge({ adapter, ledgerPath, ids, exits, faultAt });
      return {
        scenario: scenario.name,
        store: adapter.name,
        jobs: scenario.jobs,
        probes: 0,
        elapsedMs: Date.now() - started,
        crashes,
        ...judged.report,
        stopped: judged.stopped,
      };
    }
    const completed = new Set<string>();
    const dead = new Set<string>();
    const pending = new Set<string>();
    // Why each dead letter died, so a wrong one says how it got there (its fault and history).
    const deaths = new Map<string, string>();
    const leaseLostRuns: Record<string, number> = {};
    for (const id of ids) {
      const job = await adapter.store.getJob(id);
      if (job?.state === 'completed') {
        completed.add(id);
        const run = longestLeaseLostRun(job.history);
        if (run > 0) leaseLostRuns[run] = (leaseLostRuns[run] ?? 0) + 1;
      } else if (job?.state === 'dead') {
        dead.add(id);
        const history = job.history.map((h) => h.outcome).join(', ');
        deaths.set(id, `${job.fault?.category}: ${job.fault?.message}; history: ${history}`);
      } else if (job !== undefined) pending.add(id);
    }
    const ledger = readLedger(ledgerPath);
    if (process.env.FAULTLINE_FAULTS_KEEP)
      writeFileSync(process.env.FAULTLINE_FAULTS_KEEP, readFileSync(ledgerPath));
    const verdict = judge({
      ledger,
      jobs: ids,
      completed,
      dead,
      pending,
      meantToDie,
      ...(healedAt === undefined ? {} : { healedAt }),
    });
    return {
      scenario: scenario.name,
      store: adapter.name,
      jobs: scenario.jobs,
      probes: ids.length - scenario.jobs,
      runs: ledger.runs.length,
      // Every SIGKILL the ledger saw: the fault script's and the poison jobs'.
      kills: ledger.kills.size,
      crashes,
      completed: completed.size,
      dead: dead.size,
      elapsedMs: Date.now() - started,
      ...(scenario.restartAbortedMs === undefined
        ? {}
        : { aborted: exits.filter((e) => e.code === ABORT_EXIT).length }),
      leaseLostRuns,
      ...verdict,
      wrongDead: verdict.wrongDead.map((line) => {
        const why = deaths.get(line.split(' ')[0]!);
        return why === undefined ? line : `${line} (${why})`;
      }),
    };
  } finally {
    finished = true;
    for (const child of live.values()) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The longest run of consecutive `lease_lost` records in a job's history. */
function longestLeaseLostRun(history: readonly { readonly outcome: string }[]): number {
  let longest = 0;
  let current = 0;
  for (const entry of history) {
    current = entry.outcome === 'lease_lost' ? current + 1 : 0;
    longest = Math.max(longest, current);
  }
  return longest;
}
