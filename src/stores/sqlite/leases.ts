import { randomBytes } from 'node:crypto';
import type {
  ClaimedJob,
  ClaimRequest,
  LeaseRef,
  Outcome,
  SettleResult,
} from '../../durable/store.js';
import { crashLoopFault, decodeUntil, pauseInForce } from '../../durable/store-rules.js';
import { FinishedTally } from './finished-counts.js';
import { type ClaimRow, claimOrder, toClaimed, toRowId } from './rows.js';
import type { Statements } from './statements.js';

/**
 * The lease cycle of the SQLite store: claim, renew, settle, each one write transaction (the
 * store checks the file around them). Writes about a running job are fenced by its token.
 */
export class SqliteLeases {
  /** Tokens are unique across processes sharing the file: a random prefix and a counter. */
  private readonly tokenPrefix = randomBytes(6).toString('base64url');
  private tokenCounter = 0;

  constructor(private readonly sql: Statements) {}

  claim(request: ClaimRequest): ClaimedJob[] {
    const { queue, now } = request;
    return this.sql.tx(() => {
      const paused = this.sql.getPause.get(queue) as { paused_until: number | null } | undefined;
      if (pauseInForce(decodeUntil(paused?.paused_until ?? null), now) !== null) return [];
      let crashLooped = 0;
      for (const expired of this.sql.expired.all(queue, now) as { id: number; strikes: number }[]) {
        if (expired.strikes >= request.maxStrikes) {
          this.sql.recoverDead.run(
            now,
            JSON.stringify(crashLoopFault(expired.strikes)),
            expired.id,
          );
          crashLooped++;
        } else this.sql.recoverWaiting.run(expired.id);
        this.sql.trimHistory.run(expired.id);
      }
      if (crashLooped > 0) this.sql.bumpFinished.run(queue, 3, crashLooped);
      const token = `${this.tokenPrefix}.${++this.tokenCounter}`;
      const rows = this.sql.claim.all({
        token,
        workerId: request.workerId,
        now,
        leaseUntil: now + request.leaseMs,
        queue,
        limit: request.limit,
        // SQLite reads a negative LIMIT as "no limit".
        maxStruck:
          request.maxStruck === undefined || request.maxStruck === Number.POSITIVE_INFINITY
            ? -1
            : request.maxStruck,
      }) as ClaimRow[];
      return rows.sort(claimOrder).map(toClaimed);
    });
  }

  renew(leases: readonly LeaseRef[], leaseMs: number, now: number): string[] {
    return this.sql.tx(() =>
      leases
        .filter((l) => this.sql.renew.run(now + leaseMs, l.id, l.token).changes === 0)
        .map((l) => l.id),
    );
  }

  settle(outcomes: readonly Outcome[], now: number): SettleResult {
    return this.sql.tx(() => {
      const lost: string[] = [];
      const tally = new FinishedTally();
      // Completions are the bulk of the traffic: those of one claim share a token, one statement each.
      const completions = new Map<string, string[]>();
      for (const o of outcomes) {
        if (o.kind === 'complete') {
          const ids = completions.get(o.token);
          if (ids) ids.push(o.id);
          else completions.set(o.token, [o.id]);
          continue;
        }
        if (this.settleOne(o, now, tally)) this.sql.trimHistory.run(toRowId(o.id));
        else this.lose(o, lost);
      }
      for (const [token, ids] of completions) {
        if (ids.length === 1) {
          const row = this.sql.complete.get(now, ids[0], token) as { queue: string } | undefined;
          if (row) tally.add(row.queue, 2, 1);
          else this.lose({ id: ids[0]!, token }, lost);
          continue;
        }
        const applied = this.sql.completeMany.all(
          now,
          JSON.stringify(ids.map(toRowId)),
          token,
        ) as number[];
        // One token is one claim, and a claim takes jobs of one queue: one lookup counts them all.
        if (applied.length > 0)
          tally.add(this.sql.queueOf.get(applied[0]) as string, 2, applied.length);
        const appliedIds = new Set(applied.map(String));
        for (const id of ids) if (!appliedIds.has(id)) this.lose({ id, token }, lost);
      }
      tally.write(this.sql.bumpFinished);
      return { lost };
    });
  }

  /**
   * An outcome whose lease is no longer held. If the last recovery took that very lease away,
   * its worker is alive and reporting: the strike the recovery charged is taken back.
   */
  private lose(lease: LeaseRef, lost: string[]): void {
    lost.push(lease.id);
    this.sql.forgiveLostClaim.run(toRowId(lease.id), lease.token);
  }

  /** Applies one outcome other than a completion; false when its lease is no longer held. */
  private settleOne(
    o: Exclude<Outcome, { kind: 'complete' }>,
    now: number,
    tally: FinishedTally,
  ): boolean {
    switch (o.kind) {
      case 'retry':
        return this.sql.retry.run(o.runAt, JSON.stringify(o.record), o.id, o.token).changes > 0;
      case 'dead': {
        const row = this.sql.dead.get(
          now,
          JSON.stringify(o.fault),
          JSON.stringify(o.record),
          o.id,
          o.token,
        ) as { queue: string } | undefined;
        if (row) tally.add(row.queue, 3, 1);
        return row !== undefined;
      }
      case 'release':
        return (
          this.sql.release.run({
            runAt: o.runAt ?? now,
            refund: o.refund || o.unstarted ? 1 : 0,
            unstarted: o.unstarted ? 1 : 0,
            record: o.record ? JSON.stringify(o.record) : null,
            id: o.id,
            token: o.token,
          }).changes > 0
        );
    }
  }
}
