/**
 * A worker process of the fault harness (run with `node --import tsx`). Env:
 *   FAULT_STORE (a StoreSpec as JSON), FAULT_QUEUE, FAULT_LEDGER, FAULT_WORKER (its name in the
 *   ledger), FAULT_CONCURRENCY, FAULT_LEASE_MS (unset: the default), FAULT_WORK_MS (handler time).
 * A job whose payload has `poison: true` SIGKILLs this process (with FAULT_POISON_EXIT: exits, code 3). stdout: `ready`, `C <job>` per
 * completion the store accepted, `A` when the worker aborted.
 */
import { Queue } from '../../src/durable/queue.js';
import type { ClaimedJob } from '../../src/durable/store.js';
import { Worker } from '../../src/durable/worker.js';
import { systemClock } from '../../src/time/system-clock.js';
import { LedgerWriter } from './ledger.js';
import { openStore, type StoreSpec } from './stores.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`the fault child needs ${name}`);
  return value;
};

const store = openStore(JSON.parse(env('FAULT_STORE')) as StoreSpec);
const ledger = new LedgerWriter(env('FAULT_LEDGER'));
const name = env('FAULT_WORKER');
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
      if (process.env.FAULT_POISON_EXIT) process.exit(3);
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
    onAbort: () => say('A'),
  },
);
worker.events.on('completed', (e) => say(`C ${e.jobId}`));
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
