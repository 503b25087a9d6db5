import type { Redis } from 'ioredis';
import type { DeadLetter, DeadLetterQuery } from '../../durable/store.js';
import type { QueueScripts } from './queue-scripts.js';
import { jobId, toDeadLetter, toJobRecord } from './records.js';

/** Dead letters are read a page at a time, newest first, so a large backlog never loads at once. */
const LIST_PAGE = 500;

/** One queue's dead letters matching `query`: by age through the dead set's scores, then by category. */
export async function readDeadLetters(client: Redis, scripts: QueueScripts, queue: string, query: DeadLetterQuery): Promise<DeadLetter[]> {
  const max = query.olderThan === undefined ? '+inf' : String(query.olderThan);
  const min = query.newerThan === undefined ? '-inf' : String(query.newerThan);
  const found: DeadLetter[] = [];
  for (let offset = 0; ; offset += LIST_PAGE) {
    const members = await client.zrevrangebyscore(scripts.keys.dead, max, min, 'LIMIT', offset, LIST_PAGE);
    const pipeline = client.pipeline();
    for (const member of members) pipeline.hgetall(scripts.jobKey(member));
    const hashes = (await pipeline.exec()) ?? [];
    members.forEach((member, i) => {
      const [error, hash] = hashes[i] ?? [];
      if (error) throw error;
      const h = hash as Record<string, string>;
      if (h.state !== 'dead') return;
      const letter = toDeadLetter(toJobRecord(jobId(queue, member), queue, h));
      if (query.category === undefined || letter.fault.category === query.category) found.push(letter);
    });
    if (members.length < LIST_PAGE || (query.limit !== undefined && found.length >= query.limit)) break;
  }
  return query.limit === undefined ? found : found.slice(0, query.limit);
}
