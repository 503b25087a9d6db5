import type { AttemptRecord, JobRecord } from '../../durable/store.js';
import type { PageContext } from '../context.js';
import { ago, count, duration, prettyJson, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { doneNotice, page } from '../layout.js';
import { NotFound } from '../errors.js';

/** One dead letter: its fault and suggestions, the attempt history as a timeline, the payload and the last checkpoint. */
export async function deadLetterPage(context: PageContext, id: string): Promise<SafeHtml> {
  const job = await context.store.getJob(id);
  if (job === undefined)
    throw new NotFound(
      `No job with id ${JSON.stringify(id)}: it was requeued and completed, purged, or never existed.`,
    );
  const { options } = context;
  const body = html`${doneNotice(context.params)}
<div data-live="letter">
${job.state === 'dead' ? '' : html`<p class="warning">This job is no longer a dead letter: it is <strong>${job.state}</strong> now.</p>`}
${faultSection(job)}
${
  job.state === 'dead' && !options.readOnly
    ? html`<div class="actions"><a class="button" href="${context.href('/dead/preview', [
        ['action', 'requeue'],
        ['id', job.id],
      ])}">Requeue this job…</a></div>`
    : ''
}
<h2>Job</h2>
<dl class="fields">
<dt>id</dt><dd>${job.id}</dd>
<dt>queue</dt><dd><a href="${context.href('/dead', [['queue', job.queue]])}">${job.queue}</a></dd>
<dt>state</dt><dd>${job.state}</dd>
<dt>attempts</dt><dd>${job.attempts}${job.maxAttempts === undefined ? '' : ` of ${job.maxAttempts}`}</dd>
<dt>priority</dt><dd>${job.priority}</dd>
<dt>enqueued</dt><dd>${time(job.enqueuedAt)} (${ago(job.enqueuedAt, context.now)})</dd>
${job.finishedAt === undefined ? '' : html`<dt>finished</dt><dd>${time(job.finishedAt)} (${ago(job.finishedAt, context.now)})</dd>`}
${job.idempotencyKey === undefined ? '' : html`<dt>idempotency key</dt><dd>${job.idempotencyKey}</dd>`}
</dl>
<h2>Attempt history</h2>
${timeline(job.history)}
<h2>Payload</h2>
<pre class="payload">${prettyJson(job.payload)}</pre>
<h2>Last checkpoint</h2>
${job.checkpoint === undefined ? html`<p class="muted">The job saved no checkpoint.</p>` : html`<pre class="checkpoint">${prettyJson(job.checkpoint)}</pre>`}
</div>`;
  return page(context, 'dead', `Dead letter ${job.id}`, body);
}

function faultSection(job: JobRecord): SafeHtml {
  if (job.fault === undefined) return html``;
  return html`<h2>Fault</h2>
<dl class="fields fault">
<dt>category</dt><dd><span class="cat cat-${job.fault.category}">${job.fault.category}</span></dd>
<dt>message</dt><dd class="message">${job.fault.message}</dd>
<dt>suggestions</dt><dd>${job.fault.suggestions.length === 0 ? html`<span class="muted">none</span>` : html`<ul>${job.fault.suggestions.map((s) => html`<li>${s}</li>`)}</ul>`}</dd>
</dl>`;
}

function timeline(history: readonly AttemptRecord[]): SafeHtml {
  if (history.length === 0) return html`<p class="muted">No attempt was recorded.</p>`;
  return html`<ol class="timeline">${history.map(
    (a) => html`<li class="outcome-${a.outcome}">
<div class="head">Attempt ${a.attempt} · ${a.outcome}${a.category === undefined ? '' : html` · <span class="cat cat-${a.category}">${a.category}</span>`}</div>
<div class="meta">worker ${a.workerId || '(unknown)'} · started ${time(a.startedAt)} · took ${duration(a.durationMs)}</div>
${a.message === undefined ? '' : html`<div class="message">${a.message}</div>`}
</li>`,
  )}</ol><p class="muted">${count(history.length)} attempt record${history.length === 1 ? '' : 's'}, oldest first.</p>`;
}
