import type {
  ClaimedJob,
  ClaimRequest,
  LeaseRef,
  Outcome,
  SettleResult,
} from '../../durable/store.js';
import type { Queryable } from './connection.js';
import { type ClaimRow, claimOrder, leaseKey, sortById, toClaimed, toRowId } from './rows.js';
import type { Statements } from './statements.js';

/**
 * The lease cycle on PostgreSQL: claim, renew, settle. Claims run the schema's `claim` function;
 * renewals and outcomes address their rows by primary key and are fenced by the lease's token.
 * The three are named prepared statements: each connection plans them once.
 */

/** What the lease statements need from the store beyond a connection. */
export interface LeaseContext {
  readonly sql: Statements;
  /** Prefix of the prepared statements' names (one per schema: their text differs by schema). */
  readonly prefix: string;
  readonly crashFault: string;
  readonly databaseClock: boolean;
  readonly asyncClaimCommit: boolean;
}

export async function claimJobs(
  db: Queryable,
  ctx: LeaseContext,
  request: ClaimRequest,
  token: string,
): Promise<ClaimedJob[]> {
  const { rows } = await db.query({
    name: `${ctx.prefix}.claim`,
    text: ctx.sql.claim,
    values: [
      request.queue,
      request.workerId,
      request.limit,
      request.leaseMs,
      request.now,
      request.maxStrikes,
      token,
      ctx.crashFault,
      ctx.databaseClock,
      ctx.asyncClaimCommit,
      // NULL is "no limit" to LIMIT.
      request.maxStruck === undefined || request.maxStruck === Number.POSITIVE_INFINITY
        ? null
        : request.maxStruck,
    ],
  });
  return (rows as ClaimRow[]).sort(claimOrder).map((row) => toClaimed(row, request.queue, token));
}

/** Returns the ids of the leases that are no longer held. */
export async function renewLeases(
  db: Queryable,
  ctx: LeaseContext,
  leases: readonly LeaseRef[],
  leaseMs: number,
  now: number,
): Promise<string[]> {
  const valid = sortById(leases.filter((l) => toRowId(l.id) !== null));
  if (valid.length === 0) return leases.map((l) => l.id);
  const { rows } = await db.query({
    name: `${ctx.prefix}.renew`,
    text: ctx.sql.renew,
    values: [idArray(valid), valid.map((l) => l.token), now, leaseMs, ctx.databaseClock],
  });
  const held = new Set((rows as LeaseRef[]).map(leaseKey));
  return leases.filter((l) => !held.has(leaseKey(l))).map((l) => l.id);
}

/**
 * Applies outcomes in one statement; a lost one whose lease the last recovery took away takes
 * back the strike that recovery charged, in the same statement.
 */
export async function settleOutcomes(
  db: Queryable,
  ctx: LeaseContext,
  outcomes: readonly Outcome[],
  now: number,
): Promise<SettleResult> {
  const valid = sortById(outcomes.filter((o) => toRowId(o.id) !== null));
  // Ids that cannot be rows match nothing: lost.
  const invalid =
    outcomes.length === valid.length ? [] : outcomes.filter((o) => toRowId(o.id) === null);
  if (valid.length === 0) return { lost: invalid.map((o) => o.id) };
  // By id and token: a batch may hold a stale run's outcome next to the current run's for one job.
  if (valid.every((o) => o.kind === 'complete')) {
    // Completions only (the bulk of the traffic): ids and tokens in, the ones not applied out.
    const { rows } = await db.query({
      name: `${ctx.prefix}.complete`,
      text: ctx.sql.complete,
      values: completeValues(valid, now),
    });
    if (rows.length === 0) return { lost: invalid.map((o) => o.id) };
    const notApplied = new Set((rows as LeaseRef[]).map(leaseKey));
    return {
      lost: [...invalid, ...valid.filter((o) => notApplied.has(leaseKey(o)))].map((o) => o.id),
    };
  }
  const { rows } = await db.query({
    name: `${ctx.prefix}.settle`,
    text: ctx.sql.settle,
    values: settleValues(ctx, valid, now),
  });
  const applied = new Set((rows as LeaseRef[]).map(leaseKey));
  return { lost: outcomes.filter((o) => !applied.has(leaseKey(o))).map((o) => o.id) };
}

/** The parameters of `complete`: ids, and each one's token as a position in the batch's distinct tokens. */
function completeValues(outcomes: readonly Outcome[], now: number): unknown[] {
  const tokens: string[] = [];
  const positions = new Map<string, number>();
  const tokenAt = outcomes.map((o) => {
    let at = positions.get(o.token);
    if (at === undefined) {
      at = tokens.push(o.token);
      positions.set(o.token, at);
    }
    return at;
  });
  return [idArray(outcomes), now, tokenAt, tokens];
}

/** The parameters of `settle`: any mix of outcome kinds, one array per column. */
function settleValues(ctx: LeaseContext, outcomes: readonly Outcome[], now: number): unknown[] {
  return [
    outcomes.map((o) => o.kind),
    now,
    idArray(outcomes),
    outcomes.map((o) => o.token),
    outcomes.map((o) =>
      o.kind === 'retry' ? o.runAt : o.kind === 'release' ? (o.runAt ?? null) : null,
    ),
    outcomes.map((o) => o.kind === 'release' && o.refund),
    outcomes.map((o) =>
      o.kind === 'complete' || o.record === undefined ? null : JSON.stringify(o.record),
    ),
    outcomes.map((o) => (o.kind === 'dead' ? JSON.stringify(o.fault) : null)),
    ctx.sql.channel,
    outcomes.map((o) => o.kind === 'release' && o.unstarted === true),
  ];
}

/**
 * A `bigint[]` parameter of ids, as its array literal: ids that reach here are digits only
 * (`toRowId`), so the literal is their join, and the driver need not quote and escape each one.
 */
function idArray(items: readonly { readonly id: string }[]): string {
  return `{${items.map((item) => item.id).join(',')}}`;
}
