import { JobNotFoundError } from '../../durable/errors.js';
import type { PageContext } from '../context.js';
import { BadRequest, HttpError, NotFound } from '../errors.js';
import {
  type DeadFilters,
  describeFilters,
  filterParams,
  pinned,
  readFilters,
  toQuery,
} from '../filters.js';
import { count, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { page } from '../layout.js';

/** Ids listed in full on a preview; beyond this the count and the first ones are shown. */
const LISTED_IDS = 20_000;
const DETAILED = 100;

type Action = 'requeue' | 'purge';

function actionOf(value: string | null | undefined): Action {
  if (value === 'requeue' || value === 'purge') return value;
  throw new BadRequest('action must be requeue or purge');
}

function refuseReadOnly(context: PageContext): void {
  if (context.options.readOnly)
    throw new HttpError(
      403,
      'This dashboard is read-only: it shows the store and changes nothing.',
    );
}

/**
 * The dry run of an action (GET: it changes nothing): exactly which dead letters it would touch,
 * and a form to confirm it. The time range is pinned now, so the action touches these or fewer.
 */
export async function previewPage(context: PageContext): Promise<SafeHtml> {
  refuseReadOnly(context);
  const { store, now, params } = context;
  const action = actionOf(params.get('action'));
  const id = params.get('id');
  if (id !== null) {
    if (action !== 'requeue')
      throw new BadRequest('one dead letter can be requeued; purging goes by filter');
    try {
      await store.requeueDead({ ids: [id] }, { now, dryRun: true });
    } catch (error) {
      if (error instanceof JobNotFoundError)
        throw new NotFound(`${id} is not a dead letter (any more).`);
      throw error;
    }
    const body = html`<p>Requeue dead letter <a href="${context.href(`/dead/${encodeURIComponent(id)}`)}">${id}</a>: it goes back to waiting with attempts reset to 0; its history and checkpoint are kept.</p>
${confirmForm(context, 'requeue', [['id', id]], 'Requeue 1 dead letter')}`;
    return page(context, 'dead', 'Requeue one dead letter', body);
  }
  const filters = pinned(readFilters(params), now);
  const query = toQuery(filters, now);
  const [ids, first] = await Promise.all([
    store.requeueDead({ query }, { now, dryRun: true }),
    store.listDead({ ...query, limit: DETAILED }),
  ]);
  const verb = action === 'requeue' ? 'Requeue' : 'Purge';
  const what =
    action === 'requeue'
      ? 'go back to waiting (attempts reset, history and checkpoint kept)'
      : 'are deleted for good';
  const body = html`<p class="${action === 'purge' ? 'warning' : 'notice'}">Dry run: <strong>${count(ids.length)}</strong> dead letter${ids.length === 1 ? '' : 's'} (${describeFilters(filters)}, dead by ${time(filters.until!)}) ${what}. Nothing has changed yet.</p>
${
  ids.length === 0
    ? html`<p><a href="${context.href('/dead', filterParams({ ...filters, since: undefined, until: undefined }))}">Back to the list</a></p>`
    : html`${confirmForm(context, action, [...filterParams(filters), ['expected', String(ids.length)]], `${verb} ${count(ids.length)} dead letter${ids.length === 1 ? '' : 's'}`)}
<h2>${ids.length > DETAILED ? `The newest ${DETAILED}` : 'They are'}</h2>
<table class="preview"><thead><tr><th>id</th><th>queue</th><th>category</th><th>message</th></tr></thead>
<tbody>${first.map((d) => html`<tr data-id="${d.id}"><td><a href="${context.href(`/dead/${encodeURIComponent(d.id)}`)}">${d.id}</a></td><td class="msg">${d.queue}</td><td><span class="cat cat-${d.fault.category}">${d.fault.category}</span></td><td class="msg">${d.fault.message.slice(0, 160)}</td></tr>`)}</tbody></table>
<details><summary>All ${count(ids.length)} ids${ids.length > LISTED_IDS ? ` (the first ${count(LISTED_IDS)} shown)` : ''}</summary><p class="ids">${ids.slice(0, LISTED_IDS).join(' ')}</p></details>`
}`;
  return page(context, 'dead', `${verb} dead letters: preview`, body);
}

function confirmForm(
  context: PageContext,
  action: Action,
  fields: readonly (readonly [string, string])[],
  label: string,
): SafeHtml {
  const back = fields.some(([name]) => name === 'id')
    ? context.href(`/dead/${encodeURIComponent(fields.find(([n]) => n === 'id')![1])}`)
    : context.href(
        '/dead',
        fields.filter(([n]) => n !== 'expected' && n !== 'since' && n !== 'until'),
      );
  return html`<form method="post" action="${context.href(`/dead/${action}`)}" class="actions confirm">
<input type="hidden" name="csrf" value="${context.csrf}">
${fields.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<button type="submit" class="${action === 'purge' ? 'danger' : ''}">${label}</button>
<a class="button secondary" href="${back}">Cancel</a>
</form>`;
}

/** POST /dead/requeue and /dead/purge: the confirmed action; answers with where to go next. */
export async function runDeadAction(
  context: PageContext,
  action: Action,
  form: URLSearchParams,
): Promise<string> {
  refuseReadOnly(context);
  const { store, now } = context;
  const id = form.get('id');
  if (id !== null) {
    if (action !== 'requeue')
      throw new BadRequest('one dead letter can be requeued; purging goes by filter');
    try {
      await store.requeueDead({ ids: [id] }, { now });
    } catch (error) {
      if (error instanceof JobNotFoundError)
        throw new HttpError(409, `${id} is not a dead letter any more: nothing was requeued.`);
      throw error;
    }
    return context.href(`/dead/${encodeURIComponent(id)}`, [
      ['done', 'requeued'],
      ['n', '1'],
    ]);
  }
  const filters: DeadFilters = readFilters(form);
  // A confirmation always carries the pinned end of its preview's range.
  if (filters.until === undefined)
    throw new BadRequest(
      'the confirmation lacks the time of its preview (until): preview the action first',
    );
  const query = toQuery(filters, now);
  const n =
    action === 'requeue'
      ? (await store.requeueDead({ query }, { now })).length
      : await store.purgeDead({
          ...(query.queue === undefined ? {} : { queue: query.queue }),
          ...(query.category === undefined ? {} : { category: query.category }),
          ...(query.olderThan === undefined ? {} : { olderThan: query.olderThan }),
          ...(query.newerThan === undefined ? {} : { newerThan: query.newerThan }),
          ...(query.text === undefined ? {} : { text: query.text }),
        });
  const expected = form.get('expected');
  const back = filterParams({ ...filters, since: undefined, until: undefined });
  return context.href('/dead', [
    ...back,
    ['done', action === 'requeue' ? 'requeued' : 'purged'],
    ['n', String(n)],
    ...(expected === null ? [] : [['of', expected] as [string, string]]),
  ]);
}
