import type { Redis } from 'ioredis';
import { asciiLower } from '../../durable/dead-letter-rules.js';
import { JobNotFoundError } from '../../durable/errors.js';
import type { DeadLetter, DeadLetterCursor, DeadLetterQuery } from '../../durable/store.js';
import { deadCategoryKey } from './keys.js';
import type { QueueScripts } from './queue-scripts.js';
import { groupBy } from './grouping.js';
import { jobId, parseJobId, toDeadLetter, toJobRecord } from './records.js';

/**
 * Reading dead letters through the sorted sets (the dead set, or one category's set), newest
 * first, a batch at a time, resuming each batch after the last member seen (by score and member,
 * never by OFFSET), so a page deep in 100,000 dead letters costs what the first one does.
 *
 * Listing order across queues: `deadAt` descending, then queue name descending, then member
 * (the zero-padded sequence) descending, which is the order of a sorted set read backwards.
 */

/** One dead letter's place: enough to order, page and act on it without reading its hash. */
export interface DeadRef {
  readonly queue: string;
  readonly member: string;
  readonly deadAt: number;
}

const BATCH = 1_000;
/** A text search, or a query without a limit (requeue, purge), reads every member anyway: larger batches, fewer round trips. */
const LONG_BATCH = 5_000;

/** Listing order (see above): negative when `a` comes first. */
export function listingOrder(a: DeadRef, b: DeadRef): number {
  return b.deadAt - a.deadAt || compareText(b.queue, a.queue) || compareText(b.member, a.member);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A position in one sorted set: after `member` at `score`, or after everything at `score` when there is no member. */
interface Position {
  readonly score: number;
  readonly member?: string;
}

/** Where one queue's walk starts, given the query's cursor and upper age bound; undefined: from the newest. */
function startOf(
  queue: string,
  cursor: DeadLetterCursor | undefined,
  olderThan: number | undefined,
): Position | 'empty' | undefined {
  let start: Position | undefined;
  if (cursor !== undefined) {
    const parsed = parseJobId(cursor.id);
    if (!parsed) return 'empty';
    if (queue > parsed.queue) start = { score: cursor.deadAt };
    else if (queue < parsed.queue) start = { score: cursor.deadAt, member: '\uffff' };
    else start = { score: cursor.deadAt, member: parsed.member };
  }
  if (olderThan !== undefined && (start === undefined || olderThan < start.score))
    start = { score: olderThan, member: '\uffff' };
  return start;
}

/** The next batch of members after `position` (all of them when undefined), newest first. */
async function nextBatch(
  client: Redis,
  key: string,
  position: Position | undefined,
  min: string,
  size: number,
): Promise<[string, number][]> {
  const pairs: [string, number][] = [];
  const read = async (max: string, maxScoreMin: string, limit: number, offset = 0) => {
    const flat = await client.zrevrangebyscore(
      key,
      max,
      maxScoreMin,
      'WITHSCORES',
      'LIMIT',
      offset,
      limit,
    );
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, Number(flat[i + 1])]);
    return flat.length / 2;
  };
  if (position === undefined) {
    await read('+inf', min, size);
    return pairs;
  }
  if (position.member !== undefined) {
    // Members sharing the position's score (one settle batch shares its time): few, read whole.
    const tie = String(position.score);
    if (min === '-inf' || Number(min) <= position.score) {
      for (let offset = 0; ; offset += BATCH) {
        const before = pairs.length;
        const got = await read(tie, tie, BATCH, offset);
        // Keep only those after the position (smaller members come later, reading backwards).
        const kept = pairs.splice(before).filter(([member]) => member < position.member!);
        pairs.push(...kept);
        if (got < BATCH) break;
      }
    }
  }
  await read(`(${position.score}`, min, size);
  return pairs;
}

/** One queue's dead letters matching the query (cursor included), newest first, at most `want`. */
async function queueRefs(
  client: Redis,
  scripts: QueueScripts,
  query: DeadLetterQuery,
  want: number,
): Promise<DeadRef[]> {
  const queue = scripts.queue;
  const key =
    query.category === undefined
      ? scripts.keys.dead
      : deadCategoryKey(scripts.keys, query.category);
  const min = query.newerThan === undefined ? '-inf' : String(query.newerThan);
  const start = startOf(queue, query.before, query.olderThan);
  if (start === 'empty') return [];
  let position: Position | undefined = start;
  const found: DeadRef[] = [];
  while (found.length < want) {
    const batch = await nextBatch(
      client,
      key,
      position,
      min,
      query.text === undefined && want <= BATCH ? BATCH : LONG_BATCH,
    );
    if (batch.length === 0) break;
    const matches =
      query.text === undefined
        ? batch.map(() => true)
        : await textMatches(scripts, batch, query.text);
    batch.forEach(([member, deadAt], i) => {
      if (matches[i] && found.length < want) found.push({ queue, member, deadAt });
    });
    const [lastMember, lastScore] = batch[batch.length - 1]!;
    position = { score: lastScore, member: lastMember };
  }
  return found;
}

/** Whether each member's fault message contains `text`, decided inside Redis (match-text.lua). */
async function textMatches(
  scripts: QueueScripts,
  batch: readonly [string, number][],
  text: string,
): Promise<boolean[]> {
  const matching = new Set(
    (await scripts.run('matchText', [
      asciiLower(text),
      ...batch.map(([member]) => member),
    ])) as string[],
  );
  return batch.map(([member]) => matching.has(member));
}

/** Dead letters of the given queues matching the query, in listing order, at most `query.limit`. */
export async function selectDeadRefs(
  client: Redis,
  scriptsOf: (queue: string) => QueueScripts,
  queues: readonly string[],
  query: DeadLetterQuery,
): Promise<DeadRef[]> {
  const want =
    query.limit === undefined ? Number.POSITIVE_INFINITY : Math.max(0, Math.floor(query.limit));
  if (want === 0) return [];
  // Each queue gives at most `want`; the merge keeps the first `want` of all.
  const perQueue = await Promise.all(
    queues.map((queue) => queueRefs(client, scriptsOf(queue), query, want)),
  );
  const all = perQueue.flat().sort(listingOrder);
  return all.length > want ? all.slice(0, want) : all;
}

/** The dead letters themselves (one pipelined HGETALL each); any that left the dead letters meanwhile are dropped. */
export async function readDeadLetters(
  client: Redis,
  scriptsOf: (queue: string) => QueueScripts,
  refs: readonly DeadRef[],
): Promise<DeadLetter[]> {
  const pipeline = client.pipeline();
  for (const ref of refs) pipeline.hgetall(scriptsOf(ref.queue).jobKey(ref.member));
  const hashes = (await pipeline.exec()) ?? [];
  const letters: DeadLetter[] = [];
  refs.forEach((ref, i) => {
    const [error, hash] = hashes[i] ?? [];
    if (error) throw error;
    const h = hash as Record<string, string>;
    if (h.state === 'dead')
      letters.push(toDeadLetter(toJobRecord(jobId(ref.queue, ref.member), ref.queue, h)));
  });
  return letters;
}

/**
 * Requeues the dead letters a query selected, `batch` members per script call (the calls of one
 * queue go out together, one round trip); those that left the dead letters since they were
 * selected are skipped. A dry run writes nothing and runs no script: the refs were read from the
 * dead sets a moment ago. Returns the ids requeued (or that would be), in listing order.
 */
export async function requeueRefs(
  scriptsOf: (queue: string) => QueueScripts,
  refs: readonly DeadRef[],
  now: number,
  dryRun: boolean,
  batch: number,
): Promise<string[]> {
  if (dryRun) return refs.map((ref) => jobId(ref.queue, ref.member));
  const done = new Set<string>();
  for (const [queue, indexes] of groupBy(refs, (ref) => ref.queue)) {
    const members = indexes.map((i) => refs[i]!.member);
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < members.length; i += batch)
      calls.push(
        scriptsOf(queue).run('requeueDead', [now, 0, 'skip', ...members.slice(i, i + batch)]),
      );
    for (const reply of (await Promise.all(calls)) as string[][])
      for (const member of reply.slice(1)) done.add(jobId(queue, member));
  }
  return refs.map((ref) => jobId(ref.queue, ref.member)).filter((id) => done.has(id));
}

/**
 * Requeues dead letters by id, all or none: with several script calls (several queues, or more
 * than `batch` ids), every call checks first in a dry pass, so a missing id writes nothing
 * anywhere. Throws JobNotFoundError naming the first id that is not a dead letter.
 */
export async function requeueIds(
  scriptsOf: (queue: string) => QueueScripts,
  ids: readonly string[],
  now: number,
  dryRun: boolean,
  batch: number,
): Promise<string[]> {
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const parsed = parseJobId(id);
    if (!parsed) throw new JobNotFoundError(id, 'dead letter');
    const members = groups.get(parsed.queue);
    if (members) members.push(parsed.member);
    else groups.set(parsed.queue, [parsed.member]);
  }
  const calls = [...groups.values()].reduce(
    (n, members) => n + Math.ceil(members.length / batch),
    0,
  );
  const passes = calls > 1 && !dryRun ? [true, false] : [dryRun];
  for (const dry of passes) {
    for (const [queue, members] of groups) {
      for (let i = 0; i < members.length; i += batch) {
        const reply = (await scriptsOf(queue).run('requeueDead', [
          now,
          dry ? 1 : 0,
          'strict',
          ...members.slice(i, i + batch),
        ])) as string[];
        if (reply[0] === 'missing')
          throw new JobNotFoundError(jobId(queue, reply[1]!), 'dead letter');
      }
    }
  }
  return [...ids];
}

/** Deletes the selected dead letters still dead, `batch` per script call; returns how many. */
export async function deleteRefs(
  scriptsOf: (queue: string) => QueueScripts,
  refs: readonly DeadRef[],
  batch: number,
): Promise<number> {
  let deleted = 0;
  for (const [queue, indexes] of groupBy(refs, (ref) => ref.queue)) {
    const members = indexes.map((i) => refs[i]!.member);
    for (let i = 0; i < members.length; i += batch)
      deleted += (await scriptsOf(queue).run('deleteJobs', [
        'dead',
        ...members.slice(i, i + batch),
      ])) as number;
  }
  return deleted;
}
