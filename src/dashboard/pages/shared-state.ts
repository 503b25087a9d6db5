import type { PageContext } from '../context.js';
import { ago, count, time } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { page } from '../layout.js';

/** Circuit breakers, rate limiters and retry budgets shared through the store (Redis). */
export async function sharedStatePage(context: PageContext): Promise<SafeHtml> {
  const { store, now } = context;
  if (store.readSharedState === undefined) {
    return page(
      context,
      'shared',
      'Shared state',
      html`<p class="muted">The ${store.kind} store keeps no state shared between processes: breakers, rate limiters and retry budgets live in each process (RedisCircuitBreaker, RedisRateLimiter and RedisRetryBudget share theirs on Redis).</p>`,
    );
  }
  const report = await context.read('shared', () => store.readSharedState!());
  const body = html`<div data-live="shared">
${report.complete ? '' : html`<p class="warning">Discovery stopped at its bound on a large keyspace: more may exist.</p>`}
<h2>Circuit breakers</h2>
${
  report.breakers.length === 0
    ? html`<p class="muted">None found.</p>`
    : html`<table><thead><tr><th>name</th><th>state</th><th>open until</th><th>opened by</th><th>probe held by</th></tr></thead><tbody>${report.breakers.map(
        (b) => {
          const open = b.openUntil !== null && b.openUntil > now;
          return html`<tr><td class="msg">${b.name}</td><td>${open ? html`<span class="cat cat-validation">open</span>` : b.probeHolder ? html`<span class="cat cat-rate_limit">half-open</span>` : html`<span class="cat">closed</span>`}</td>
<td>${b.openUntil === null ? '' : html`${time(b.openUntil)} (${ago(b.openUntil, now)})`}</td><td class="msg">${b.openedBy ?? ''}</td><td class="msg">${b.probeHolder ?? ''}</td></tr>`;
        },
      )}</tbody></table>`
}
<h2>Rate limiters</h2>
${
  report.limiters.length === 0
    ? html`<p class="muted">None found (a full bucket is not stored).</p>`
    : html`<table><thead><tr><th>name</th><th class="num">tokens</th><th>as of</th></tr></thead><tbody>${report.limiters.map(
        (l) =>
          html`<tr><td class="msg">${l.name}</td><td class="num">${l.tokens.toFixed(2)}</td><td>${ago(l.at, now)}</td></tr>`,
      )}</tbody></table>`
}
<h2>Retry budgets</h2>
${
  report.budgets.length === 0
    ? html`<p class="muted">None found.</p>`
    : html`<table><thead><tr><th>name</th><th class="num">requests in window</th><th class="num">retries in window</th></tr></thead><tbody>${report.budgets.map(
        (b) =>
          html`<tr><td class="msg">${b.name}</td><td class="num">${count(b.requests)}</td><td class="num">${count(b.retries)}</td></tr>`,
      )}</tbody></table>`
}
</div>`;
  return page(context, 'shared', 'Shared state', body);
}
