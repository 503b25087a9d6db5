import type { LeaseRef } from '../../durable/store.js';
import { parseJobId } from './records.js';

/**
 * A store call may name jobs of several queues; each queue's keys share one hash tag, so the
 * Redis store runs one script per queue. These split a call's items by queue.
 */

/** Groups lease references by the queue their id names; ids that name none are lost at once. */
export function byQueue<T extends LeaseRef>(
  items: readonly T[],
  lost: string[],
): Map<string, { member: string; item: T }[]> {
  const groups = new Map<string, { member: string; item: T }[]>();
  for (const item of items) {
    const parsed = parseJobId(item.id);
    if (!parsed) {
      lost.push(item.id);
      continue;
    }
    const group = groups.get(parsed.queue);
    if (group) group.push({ member: parsed.member, item });
    else groups.set(parsed.queue, [{ member: parsed.member, item }]);
  }
  return groups;
}

/** Indexes of `items` grouped by a key, groups in first-seen order. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  items.forEach((item, index) => {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(index);
    else groups.set(k, [index]);
  });
  return groups;
}
