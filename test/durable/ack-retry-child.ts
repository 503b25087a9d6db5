/**
 * A process whose only unfinished business is one job outcome the store refused once (an outage
 * that ends by itself): the ack's retry must keep the process alive until the store has it.
 * stdout: `applied <true|false> <job state>` when the outcome was written. A process that exits
 * without that line lost the outcome silently (the job would rerun after its lease).
 */
import { Queue } from '../../src/durable/queue.js';
import { AckBatcher } from '../../src/durable/worker-acks.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { systemClock } from '../../src/time/system-clock.js';

const store = new MemoryStore();
const queue = new Queue<{ n: number }>(store, 'acks');
const { id } = await queue.enqueue({ n: 1 });
const [job] = await store.claim({
  queue: 'acks',
  workerId: 'w1',
  limit: 1,
  leaseMs: 60_000,
  now: systemClock.wallTime(),
  maxStrikes: 3,
});
if (job === undefined || job.id !== id) throw new Error('the job was not claimed');
// The store is down for the first write only.
const settle = store.settle.bind(store);
let calls = 0;
store.settle = (outcomes, now) =>
  ++calls === 1 ? Promise.reject(new Error('connection refused')) : settle(outcomes, now);
// A fault that may heal: the batcher tries the write again (onError returns no verdict).
const acks = new AckBatcher(store, systemClock, () => undefined, 50);
const applied = await acks.push({ kind: 'complete', id: job.id, token: job.token });
process.stdout.write(`applied ${applied} ${(await store.getJob(id))?.state}\n`);
