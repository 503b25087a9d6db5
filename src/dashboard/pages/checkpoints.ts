import type { PageContext } from '../context.js';
import { BadRequest, HttpError, NotFound } from '../errors.js';
import { ago, count, prettyJson, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { doneNotice, page } from '../layout.js';

const PREVIEW_CHARS = 120;
const LISTED = 1_000;

function keyParam(params: URLSearchParams): string {
  const key = params.get('key');
  if (key === null || key.length === 0 || key.length > 1_000)
    throw new BadRequest('key must name a checkpoint');
  return key;
}

/** The Checkpointer's checkpoints, by key prefix. */
export async function checkpointsPage(context: PageContext): Promise<SafeHtml> {
  const prefix = context.params.get('prefix') ?? '';
  if (prefix.length > 1_000) throw new BadRequest('prefix is longer than 1000 characters');
  const all = await context.read(`checkpoints:${prefix}`, () =>
    context.store.listCheckpoints(prefix),
  );
  const shown = all.slice(0, LISTED);
  const body = html`${doneNotice(context.params)}
<form class="filters" method="get" action="${context.href('/checkpoints')}"><label>key starts with <input type="search" name="prefix" value="${prefix}"></label><button type="submit">Filter</button></form>
<div data-live="checkpoints">
<p>${count(all.length)} checkpoint${all.length === 1 ? '' : 's'}${all.length > LISTED ? `, the first ${LISTED} by key shown` : ''}.</p>
${
  shown.length === 0
    ? html`<p class="muted">No checkpoint.</p>`
    : html`<table class="checkpoints"><thead><tr><th>key</th><th>updated</th><th>value</th></tr></thead><tbody>${shown.map(
        (c) =>
          html`<tr><td class="msg"><a href="${context.href('/checkpoints/view', [['key', c.key]])}">${c.key}</a></td><td title="${time(c.updatedAt)}">${ago(c.updatedAt, context.now)}</td><td class="msg"><code>${c.value.length > PREVIEW_CHARS ? `${c.value.slice(0, PREVIEW_CHARS)}…` : c.value}</code></td></tr>`,
      )}</tbody></table>`
}
</div>`;
  return page(context, 'checkpoints', 'Checkpoints', body);
}

export async function checkpointPage(context: PageContext): Promise<SafeHtml> {
  const key = keyParam(context.params);
  const record = await context.store.getCheckpoint(key);
  if (record === undefined) throw new NotFound(`No checkpoint with key ${JSON.stringify(key)}.`);
  const confirming = context.params.get('confirm') === 'clear';
  const body = html`<dl class="fields"><dt>key</dt><dd>${record.key}</dd><dt>updated</dt><dd>${time(record.updatedAt)} (${ago(record.updatedAt, context.now)})</dd></dl>
<h2>Value</h2><pre class="checkpoint">${prettyJson(record.value)}</pre>
${
  context.options.readOnly
    ? ''
    : confirming
      ? html`<p class="warning">Clearing it makes the work it tracks start over from the beginning on its next run.</p>
<form method="post" action="${context.href('/checkpoints/clear')}" class="actions confirm"><input type="hidden" name="csrf" value="${context.csrf}"><input type="hidden" name="key" value="${record.key}">
<button type="submit" class="danger">Clear this checkpoint</button> <a class="button secondary" href="${context.href('/checkpoints/view', [['key', record.key]])}">Cancel</a></form>`
      : html`<div class="actions"><a class="button danger" href="${context.href(
          '/checkpoints/view',
          [
            ['key', record.key],
            ['confirm', 'clear'],
          ],
        )}">Clear…</a></div>`
}`;
  return page(context, 'checkpoints', 'Checkpoint', body);
}

/** POST /checkpoints/clear: deletes one checkpoint. */
export async function clearCheckpoint(
  context: PageContext,
  form: URLSearchParams,
): Promise<string> {
  if (context.options.readOnly)
    throw new HttpError(
      403,
      'This dashboard is read-only: it shows the store and changes nothing.',
    );
  const existed = await context.store.deleteCheckpoint(keyParam(form));
  return context.href('/checkpoints', [
    ['done', 'cleared'],
    ['n', existed ? '1' : '0'],
  ]);
}
