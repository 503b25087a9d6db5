/**
 * A worker process for the crash harness (run with `node --import tsx`). Modes:
 *   queue <db> <log> <concurrency> [workMs]
 *                                    run the queue "crash" with default worker settings; every
 *                                    handler start/end is appended to <log> with its token. Each
 *                                    handler works 2-14 ms, or workMs when given.
 *   checkpoint <db> <log> <items> <everyItems>
 *                                    walk items 0..items-1 from the saved checkpoint, logging each.
 * Progress goes to stdout, one line per event, for the parent to react to.
 */
import { appendFileSync } from 'node:fs';
import { checkpointer } from '../../src/durable/checkpointer.js';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import { systemClock } from '../../src/time/system-clock.js';

const [mode, db, log, a, b] = process.argv.slice(2);
const say = (line: string) => process.stdout.write(`${line}\n`);

if (mode === 'queue') {
  const store = new SqliteStore(db!);
  const queue = new Queue<{ n?: number; poison?: boolean }>(store, 'crash');
  const worker = new Worker(
    queue,
    async (payload, ctx) => {
      // A poison job: it kills its worker every time it runs.
      if ((payload as { poison?: boolean }).poison) process.kill(process.pid, 'SIGKILL');
      appendFileSync(log!, `S ${ctx.job.id} ${ctx.job.token} ${process.pid} ${Date.now()}\n`);
      say('S');
      await systemClock.sleep(b === undefined ? 2 + Math.random() * 12 : Number(b));
      appendFileSync(log!, `E ${ctx.job.id} ${ctx.job.token} ${process.pid} ${Date.now()}\n`);
    },
    // LEASE_MS shortens the lease for tests that wait for many expiries; the default otherwise.
    {
      concurrency: Number(a),
      ...(process.env.LEASE_MS ? { leaseMs: Number(process.env.LEASE_MS) } : {}),
      ...(process.env.MAX_STRIKES ? { maxStrikes: Number(process.env.MAX_STRIKES) } : {}),
    },
  );
  worker.events.on('completed', (e) => say(`C ${e.jobId}`));
  // Lets the parent notice the end even when a completion line died with its process.
  worker.events.on('idle', () => say('idle'));
  process.on('SIGTERM', () => {
    void worker
      .stop({ deadlineMs: 5_000 })
      .then(() => store.close())
      .then(() => process.exit(0));
  });
  worker.start();
  say('ready');
} else if (mode === 'checkpoint') {
  const store = new SqliteStore(db!);
  const items = Number(a);
  const progress = checkpointer<{ next: number }>(store, 'walk', {
    everyItems: Number(b),
    everyMs: 60_000,
  });
  const start = (await progress.load())?.next ?? 0;
  say(`ready ${start}`);
  for (let i = start; i < items; i++) {
    appendFileSync(log!, `I ${i} ${process.pid}\n`);
    say('I');
    await systemClock.sleep(1);
    await progress.record({ next: i + 1 });
  }
  await progress.flush();
  await store.close();
  say('done');
} else {
  throw new Error(`unknown mode ${mode}`);
}
