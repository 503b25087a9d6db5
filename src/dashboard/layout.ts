import type { PageContext } from './context.js';
import { html, type SafeHtml } from './html.js';

export type Section = 'overview' | 'dead' | 'checkpoints' | 'shared';

const NAV: readonly [Section, string, string][] = [
  ['overview', 'Overview', '/'],
  ['dead', 'Dead letters', '/dead'],
  ['checkpoints', 'Checkpoints', '/checkpoints'],
  ['shared', 'Shared state', '/shared'],
];

/** The page around a section's content. Only `SafeHtml` goes in: the template escaped it. */
export function page(
  context: PageContext,
  section: Section,
  title: string,
  body: SafeHtml,
): SafeHtml {
  const { options, store, storeName } = context;
  const storeLabel = options.single ? store.kind : `${storeName} (${store.kind})`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · faultline</title>
<link rel="stylesheet" href="${context.asset('app.css')}">
<script src="${context.asset('app.js')}" defer></script>
</head>
<body data-refresh-ms="${options.refreshMs}">
<header class="top">
  <a class="brand" href="${context.href('/')}">faultline</a>
  <nav>${NAV.map(([id, label, path]) => html`<a href="${context.href(path)}"${id === section ? html` aria-current="page"` : ''}>${label}</a>`)}</nav>
  <span class="store" title="store">${storeLabel}</span>
  ${options.readOnly ? html`<span class="badge readonly">read-only</span>` : ''}
  ${options.single ? '' : html`<a class="switch" href="${`${options.basePath}/`}">all stores</a>`}
</header>
<main>
<h1>${title}</h1>
${body}
</main>
<footer>${options.refreshMs === 0 ? 'Reload to refresh.' : `Refreshes every ${options.refreshMs < 1_000 ? `${options.refreshMs} ms` : `${Math.round(options.refreshMs / 1_000)} s`} while the tab is visible.`}</footer>
</body>
</html>
`;
}

/** A page for an error or a refusal, without store data. */
export function plainPage(title: string, message: string, cssHref: string | undefined): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title} · faultline</title>${cssHref === undefined ? '' : html`<link rel="stylesheet" href="${cssHref}">`}</head>
<body><main><h1>${title}</h1><p class="message">${message}</p></main></body>
</html>
`;
}

/** A notice after an action, from the redirect's query string (numbers and fixed words only). */
export function doneNotice(params: URLSearchParams): SafeHtml | '' {
  const done = params.get('done');
  const n = Number(params.get('n'));
  if (done === null || !Number.isSafeInteger(n) || n < 0) return '';
  const of = params.get('of');
  const previewed =
    of !== null && Number.isSafeInteger(Number(of)) && Number(of) !== n
      ? ` (${Number(of)} were previewed; the others had already left)`
      : '';
  const text: Record<string, string> = {
    requeued: `Requeued ${n} dead letter${n === 1 ? '' : 's'}${previewed}.`,
    purged: `Purged ${n} dead letter${n === 1 ? '' : 's'}${previewed}.`,
    cleared: n === 1 ? 'Checkpoint cleared.' : 'The checkpoint was already gone.',
  };
  const line = text[done];
  return line === undefined ? '' : html`<p class="notice" role="status">${line}</p>`;
}
