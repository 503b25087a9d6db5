/**
 * A worker process of the fault harness (run with `node --import tsx`). Env:
 *   FAULT_STORE (a StoreSpec as JSON), FAULT_QUEUE, FAULT_LEDGER, FAULT_WORKER (its name in the
 *   ledger), FAULT_CONCURRENCY, FAULT_LEASE_MS (unset: the default), FAULT_WORK_MS (handler time).
 * A job whose payload has `poison: true` SIGKILLs this process (with FAULT_POISON_EXIT it exits
 * with POISON_EXIT instead, which the harness counts as a crash). stdout: `ready`, `C <job>` per
 * completion the store accepted, `A` when the worker aborted. A store fault that cannot heal
 * (the worker aborts, or the store refuses to open) ends the process with ABORT_EXIT, after the
 * ledger lines of scenarios-sqlite-file.ts (what was recorded, what was not). FAULT_CONTROL names a
 * control file the SQLite store follows (sqlite-file-control.ts).
 */
import { Queue } from '../../src/durable/queue.js';
import type { ClaimedJob } from '../../src/durable/store.js';
import { Worker } from '../../src/durable/worker.js';
import { classify } from '../../src/faults/classify.js';
import { systemClock } from '../../src/time/system-clock.js';
import { LedgerWriter } from './ledger.js';
import { ABORT_EXIT, followControlFile } from './sqlite-file-control.js';
import { openStore, type StoreSpec } from './stores.js';

/** A poison job's exit code with FAULT_POISON_EXIT: any code but ABORT_EXIT (an expected stop). */
const POISON_EXIT = 7;

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`the fault child needs ${name}`);
  return value;
};

const ledger = new LedgerWriter(env('FAULT_LEDGER'));
const name = env('FAULT_WORKER');
let store: ReturnType<typeof openStore>;
try {
  store = openStore(JSON.parse(env('FAULT_STORE')) as StoreSpec);
} catch (error) {
  // A store this process cannot write (read-only, full, gone) is refused at open: a supervisor
  // would restart the process later, as the harness does.
  const fault = classify(error);
  if (fault.category !== 'resource' || fault.retryable) throw error;
  ledger.write(`A ${name} ${Date.now()} open`);
  process.exit(ABORT_EXIT);
}
if (process.env.FAULT_CONTROL) followControlFile(store, process.env.FAULT_CONTROL);
const workMs = Number(env('FAULT_WORK_MS'));
// The lease end the store granted each claim (wall ms), for the ledger.
const leaseEnds = new Map<string, number>();
const claim = store.claim.bind(store);
store.claim = async (request) => {
  const jobs: ClaimedJob[] = await claim(request);
  for (const job of jobs) leaseEnds.set(`${job.id} ${job.token}`, job.leaseUntil);
  return jobs;
};
const say = (line: string) => process.stdout.write(`${line}\n`);

const worker = new Worker(
  new Queue<{ n: number; poison?: boolean }>(store, env('FAULT_QUEUE')),
  async (payload, ctx) => {
    if (payload.poison) {
      ledger.write(`K ${name} ${Date.now()}`);
      if (process.env.FAULT_POISON_EXIT) process.exit(POISON_EXIT);
      process.kill(process.pid, 'SIGKILL');
    }
    const { id, token } = ctx.job;
    const key = `${id} ${token}`;
    ledger.write(
      `S ${id} ${name} ${token} ${ctx.attempt} ${leaseEnds.get(key) ?? 0} ${Date.now()}`,
    );
    leaseEnds.delete(key);
    // Work that honours its signal, as the guarantee asks of handlers.
    await systemClock.sleep(workMs * (0.5 + Math.random()), ctx.signal).catch(() => undefined);
    ledger.write(`E ${id} ${name} ${token} ${Date.now()}`);
  },
  {
    concurrency: Number(env('FAULT_CONCURRENCY')),
    ...(process.env.FAULT_LEASE_MS ? { leaseMs: Number(process.env.FAULT_LEASE_MS) } : {}),
    ...(process.env.FAULT_MAX_STRIKES ? { maxStrikes: Number(process.env.FAULT_MAX_STRIKES) } : {}),
    workerId: name,
    onAbort: () => {
      say('A');
      ledger.write(`A ${name} ${Date.now()} run`);
      // Stop (outcomes of running jobs are written, or reported unrecorded), then exit.
      void worker
        .stop({ deadlineMs: 3_000 })
        .then(() => store.close())
        .finally(() => process.exit(ABORT_EXIT));
    },
  },
);
worker.events.on('completed', (e) => say(`C ${e.jobId}`));
if (process.env.FAULT_OUTCOMES) {
  // For faults that destroy the store: what the store accepted (completed, released) and what
  // the worker reported it could not record, in the ledger (the store cannot be audited after).
  worker.events.on('completed', (e) => ledger.write(`C ${e.jobId} ${name} ${Date.now()}`));
  worker.events.on('released', (e) => ledger.write(`B ${e.jobId} ${name} ${Date.now()}`));
  worker.events.on('leaseLost', (e) => ledger.write(`F ${e.jobId} ${name} ${Date.now()}`));
}
// Store errors are expected under faults; FAULTLINE_FAULTS_DEBUG shows them.
worker.events.on('error', (e) => {
  if (process.env.FAULTLINE_FAULTS_DEBUG)
    process.stderr.write(
      `${name} ${e.during}: ${String((e.error as Error)?.message ?? e.error)}\n`,
    );
});
process.on('SIGTERM', () => {
  void worker
    .stop({ deadlineMs: 3_000 })
    .then(() => store.close())
    .finally(() => process.exit(0));
});
worker.start();
say('ready');
