import type { ClaimRequest, Outcome } from '../../durable/store.js';
import { crashLoopFault } from '../../durable/store-rules.js';

/**
 * How the lease cycle's calls travel to their scripts (claim.lua, settle.lua): flat argument
 * lists, whose layout each script's header describes.
 */

/** The claim script's arguments after the keys. */
export function claimArgs(request: ClaimRequest): (string | number)[] {
  return [
    request.now,
    request.workerId,
    request.limit,
    request.leaseMs,
    request.maxStrikes,
    // The script puts the job's own number of strikes in place of the marker.
    JSON.stringify(crashLoopFault(-123456789)),
    request.maxStruck === undefined || request.maxStruck === Number.POSITIVE_INFINITY
      ? -1
      : request.maxStruck,
  ];
}

/** Appends one outcome of job `member` to the settle script's arguments. */
export function pushOutcome(args: (string | number)[], member: string, item: Outcome): void {
  if (item.kind === 'complete') {
    // Two arguments instead of seven: most outcomes are completions (see settle.lua).
    args.push(member, item.token);
    return;
  }
  const runAt =
    item.kind === 'retry' ? item.runAt : item.kind === 'release' ? (item.runAt ?? '') : '';
  const refund = item.kind !== 'release' ? 0 : item.unstarted ? 2 : item.refund ? 1 : 0;
  const record = item.record === undefined ? '' : JSON.stringify(item.record);
  const fault = item.kind === 'dead' ? JSON.stringify(item.fault) : '';
  args.push(item.kind, member, item.token, runAt, refund, record, fault);
}
