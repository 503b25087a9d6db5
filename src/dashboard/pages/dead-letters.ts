import type { CategoryCount, DeadLetter } from '../../durable/store.js';
import { suggestionsFor } from '../../faults/suggestions.js';
import type { PageContext } from '../context.js';
import {
  AGES,
  CATEGORIES,
  type DeadFilters,
  filterParams,
  readCursor,
  readFilters,
  toQuery,
} from '../filters.js';
import { ago, count, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { doneNotice, page } from '../layout.js';

const MESSAGE_CHARS = 160;

/** Dead letters grouped by category (with suggestions), filters, a keyset-paged list and the bulk actions. */
export async function deadLettersPage(context: PageContext): Promise<SafeHtml> {
  const { store, now, params, options } = context;
  const filters = readFilters(params);
  const before = readCursor(params);
  const query = toQuery(filters, now);
  const { category: _selected, ...withoutCategory } = query;
  const key = JSON.stringify(query);
  const [queues, groups, letters] = await Promise.all([
    context.read('queues', () => store.queues()),
    // Groups ignore the category filter, so the other categories stay one click away.
    context.read(`groups:${JSON.stringify(withoutCategory)}`, () =>
      store.countDeadByCategory(withoutCategory),
    ),
    context.read(`dead:${key}:${before?.deadAt}:${before?.id}`, () =>
      store.listDead({ ...query, ...(before ? { before } : {}), limit: options.pageSize + 1 }),
    ),
  ]);
  const shown = letters.slice(0, options.pageSize);
  const inScope =
    filters.category === undefined
      ? groups.reduce((n, g) => n + g.count, 0)
      : (groups.find((g) => g.category === filters.category)?.count ?? 0);
  const last = shown[shown.length - 1];
  const base = filterParams(filters);
  const body = html`${doneNotice(params)}
${filterForm(context, filters, queues)}
<div data-live="groups">${groupCards(context, filters, groups)}</div>
<div data-live="dead-list">
<div class="actions"><span><strong>${count(inScope)}</strong> dead letter${inScope === 1 ? '' : 's'} match${before ? ' (a later page)' : ''}</span>
${
  options.readOnly || inScope === 0
    ? ''
    : html`<a class="button" href="${context.href('/dead/preview', [['action', 'requeue'], ...base])}">Requeue these…</a>
<a class="button danger" href="${context.href('/dead/preview', [['action', 'purge'], ...base])}">Purge these…</a>`
}</div>
${shown.length === 0 ? html`<p class="muted">No dead letter matches.</p>` : letterTable(context, shown)}
<div class="pager">${before ? html`<a href="${context.href('/dead', base)}">« first page</a>` : ''}
${
  letters.length > options.pageSize && last
    ? html`<a rel="next" href="${context.href('/dead', [...base, ['beforeAt', String(last.deadAt)], ['beforeId', last.id]])}">next page »</a>`
    : ''
}</div>
</div>`;
  return page(context, 'dead', 'Dead letters', body);
}

function filterForm(
  context: PageContext,
  filters: DeadFilters,
  queues: readonly string[],
): SafeHtml {
  const option = (value: string, label: string, selected: boolean) =>
    html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
  return html`<form class="filters" method="get" action="${context.href('/dead')}">
<label>queue <select name="queue">${option('', 'all queues', filters.queue === undefined)}${queues.map((q) => option(q, q, q === filters.queue))}</select></label>
<label>category <select name="category">${option('', 'all categories', filters.category === undefined)}${CATEGORIES.map((c) => option(c, c, c === filters.category))}</select></label>
<label>dead in <select name="age">${option('', 'any time', filters.age === undefined)}${Object.entries(AGES).map(([k, a]) => option(k, a.label, k === filters.age))}</select></label>
<label>message contains <input type="search" name="text" maxlength="200" value="${filters.text ?? ''}" placeholder="text"></label>
<button type="submit">Filter</button> <a class="button secondary" href="${context.href('/dead')}">Clear</a>
</form>`;
}

function groupCards(
  context: PageContext,
  filters: DeadFilters,
  groups: readonly CategoryCount[],
): SafeHtml {
  if (groups.length === 0) return html``;
  const base = filterParams({ ...filters, category: undefined });
  return html`<h2>By category</h2><div class="groups">${groups.map(
    (
      g,
    ) => html`<div class="group${g.category === filters.category ? ' selected' : ''}" data-category="${g.category}">
<span class="n">${count(g.count)}</span><a href="${context.href('/dead', [...base, ['category', g.category]])}"><span class="cat cat-${g.category}">${g.category}</span></a>
<ul>${suggestionsFor(g.category).map((s) => html`<li>${s}</li>`)}</ul></div>`,
  )}</div>`;
}

function firstLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= MESSAGE_CHARS ? line : `${line.slice(0, MESSAGE_CHARS - 1)}…`;
}

function letterTable(context: PageContext, letters: readonly DeadLetter[]): SafeHtml {
  return html`<table class="dead">
<thead><tr><th>dead</th><th>queue</th><th>category</th><th>message</th><th class="num">attempts</th><th>id</th></tr></thead>
<tbody>${letters.map(
    (d) => html`<tr data-id="${d.id}">
<td title="${time(d.deadAt)}">${ago(d.deadAt, context.now)}</td>
<td class="msg">${d.queue}</td>
<td><span class="cat cat-${d.fault.category}">${d.fault.category}</span></td>
<td class="msg">${firstLine(d.fault.message)}</td>
<td class="num">${d.attempts}</td>
<td><a href="${context.href(`/dead/${encodeURIComponent(d.id)}`)}">${d.id}</a></td>
</tr>`,
  )}</tbody></table>`;
}
