import { html, type SafeHtml } from '../html.js';
import type { ResolvedOptions } from '../options.js';

/** With several stores: the list to choose from (names as the application gave them). */
export function storesPage(options: ResolvedOptions, cssHref: string): SafeHtml {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stores · faultline</title><link rel="stylesheet" href="${cssHref}"></head>
<body><header class="top"><span class="brand">faultline</span></header><main><h1>Stores</h1>
<table><thead><tr><th>store</th><th>kind</th></tr></thead><tbody>${[...options.stores].map(
    ([name, store]) =>
      html`<tr><td><a href="${`${options.basePath}/s/${encodeURIComponent(name)}/`}">${name}</a></td><td>${store.kind}</td></tr>`,
  )}</tbody></table></main></body></html>
`;
}
