import type { LeaseHolder, QueueCounts } from '../../durable/store.js';
import { throughputChart } from '../chart.js';
import type { PageContext } from '../context.js';
import { ago, count, duration, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { page } from '../layout.js';

const MINUTE = 60_000;
const BUCKETS = 60;

/** Every queue's counts, jobs per minute over the last hour, the oldest wait and the pauses. */
export async function overviewPage(context: PageContext): Promise<SafeHtml> {
  const { store, now } = context;
  // The last bucket is the minute in progress.
  const since = Math.floor(now / MINUTE) * MINUTE - (BUCKETS - 1) * MINUTE;
  const [queues, throughput, holders] = await Promise.all([
    context.read('queues', () => store.queues()),
    context.read(`throughput:${since}`, () =>
      store.finishedPerBucket({ since, bucketMs: MINUTE, buckets: BUCKETS }),
    ),
    // Optional in the store interface: undefined when the store cannot tell.
    store.leaseHolders === undefined
      ? undefined
      : context.read('leaseHolders', () => store.leaseHolders!(now)),
  ]);
  const stats = await Promise.all(
    queues.map((queue) => context.read(`stats:${queue}`, () => store.stats(queue, now))),
  );
  const total = (key: 'waiting' | 'delayed' | 'running' | 'completed' | 'dead') =>
    stats.reduce((sum, s) => sum + s[key], 0);
  const cards: [string, number, string][] = [
    ['waiting', total('waiting'), ''],
    ['delayed', total('delayed'), ''],
    ['running', total('running'), ''],
    ['completed (retained)', total('completed'), 'ok'],
    ['dead letters', total('dead'), 'dead'],
  ];
  if (holders !== undefined)
    cards.push(['workers with a job', new Set(holders.map((h) => h.workerId)).size, '']);
  const body = html`<div data-live="overview">
<div class="cards">${cards.map(([label, n, kind]) => html`<div class="card ${kind}"><div class="n">${count(n)}</div><div class="l">${label}</div></div>`)}</div>
${throughputChart(throughput, since, MINUTE)}
<h2>Queues</h2>
${queues.length === 0 ? html`<p class="muted">No queue holds any job yet.</p>` : queueTable(context, queues, stats, holders)}
<p class="muted">${
    holders === undefined
      ? 'This store does not tell which workers hold jobs: the running count is the number of jobs under a lease.'
      : 'Workers with a job: those holding a live lease now. Stores keep no record of idle workers, so a worker waiting for work is not counted.'
  }</p>
</div>`;
  return page(context, 'overview', 'Overview', body);
}

function queueTable(
  context: PageContext,
  queues: readonly string[],
  stats: readonly QueueCounts[],
  holders: readonly LeaseHolder[] | undefined,
): SafeHtml {
  const { now } = context;
  const workers = (queue: string) =>
    holders === undefined
      ? html`<span class="muted" title="this store does not tell">?</span>`
      : count(holders.filter((h) => h.queue === queue).length);
  return html`<table class="queues">
<thead><tr><th>queue</th><th class="num">waiting</th><th class="num">delayed</th><th class="num">running</th><th class="num" title="workers holding a live lease on a job of this queue">workers with a job</th><th class="num">completed</th><th class="num">dead</th><th>oldest waiting</th><th>paused</th></tr></thead>
<tbody>${queues.map((queue, i) => {
    const s = stats[i]!;
    return html`<tr data-queue="${queue}">
<td class="msg">${queue}</td>
<td class="num" data-count="waiting">${count(s.waiting)}</td><td class="num" data-count="delayed">${count(s.delayed)}</td><td class="num" data-count="running">${count(s.running)}</td><td class="num" data-count="workers">${workers(queue)}</td><td class="num" data-count="completed">${count(s.completed)}</td>
<td class="num" data-count="dead">${s.dead > 0 ? html`<a href="${context.href('/dead', [['queue', queue]])}">${count(s.dead)}</a>` : '0'}</td>
<td>${s.oldestWaitingSince === null ? html`<span class="muted">none</span>` : html`<span title="${time(s.oldestWaitingSince)}">${duration(now - s.oldestWaitingSince)}</span>`}</td>
<td>${s.pausedUntil === null ? html`<span class="muted">no</span>` : Number.isFinite(s.pausedUntil) ? html`<span class="badge-warn">until ${time(s.pausedUntil)} (${ago(s.pausedUntil, now)})</span>` : html`<span class="badge-warn">until resumed</span>`}</td>
</tr>`;
  })}</tbody>
</table>`;
}
