import { createHash } from 'node:crypto';

/**
 * The dashboard's only two asset files, shipped inside the package's JavaScript (no CDN, no
 * files to locate at run time, nothing to build): a stylesheet and a small script that
 * refreshes the parts of a page marked `data-live` while the tab is visible.
 */

const CSS = `
:root { --bg: #f6f7f9; --fg: #1d2330; --muted: #5d6677; --line: #dde1e8; --card: #fff; --accent: #2457c5;
  --ok: #2f9e6a; --dead: #d1434b; --warn: #b7791f; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font-size: 14px; line-height: 1.45; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
header.top { display: flex; gap: 18px; align-items: center; padding: 10px 24px; background: #111827; color: #e5e7eb; }
header.top a { color: #cbd5e1; } header.top a[aria-current="page"] { color: #fff; font-weight: 600; border-bottom: 2px solid #60a5fa; }
header.top nav { display: flex; gap: 16px; }
.brand { font-weight: 700; font-size: 16px; color: #fff !important; letter-spacing: .02em; }
.store { margin-left: auto; color: #9ca3af; font-size: 12px; }
.badge { font-size: 11px; padding: 2px 8px; border-radius: 10px; background: #374151; color: #fde68a; }
main { padding: 16px 24px 32px; max-width: 1280px; }
h1 { font-size: 20px; margin: 4px 0 14px; } h2 { font-size: 16px; margin: 22px 0 8px; }
footer { padding: 8px 24px; color: var(--muted); font-size: 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin-bottom: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .n { font-size: 22px; font-weight: 600; } .card .l { color: var(--muted); font-size: 12px; }
.card.dead .n { color: var(--dead); } .card.ok .n { color: var(--ok); }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; font-weight: 600; font-size: 12px; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:last-child td { border-bottom: 0; }
.msg { max-width: 520px; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.cat { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #e8edf7; color: #223; font-size: 12px; }
.cat-rate_limit, .cat-timeout, .cat-unavailable, .cat-network, .cat-conflict { background: #fdf0d5; }
.cat-validation, .cat-permanent, .cat-auth { background: #fde2e4; }
.cat-resource, .cat-unknown, .cat-cancelled { background: #e5e7eb; }
.chart { margin: 0 0 12px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px 6px; }
.chart svg { width: 100%; height: auto; display: block; }
.bar-completed { fill: var(--ok); } .bar-dead { fill: var(--dead); } .axis { stroke: var(--line); }
.tick { font-size: 10px; fill: var(--muted); }
figcaption { font-size: 12px; color: var(--muted); }
.key { display: inline-block; width: 10px; height: 10px; border-radius: 2px; vertical-align: -1px; }
.key-completed { background: var(--ok); } .key-dead { background: var(--dead); }
form.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin-bottom: 12px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
input, select, button { font: inherit; padding: 5px 8px; border: 1px solid #c4cad4; border-radius: 6px; background: #fff; }
button, .button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); padding: 5px 12px; border-radius: 6px; display: inline-block; }
.button.secondary, button.secondary { background: #fff; color: var(--fg); border: 1px solid #c4cad4; }
button.danger, .button.danger { background: var(--dead); border-color: var(--dead); color: #fff; }
.actions { display: flex; gap: 8px; margin: 10px 0; align-items: center; }
.groups { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 10px; margin-bottom: 16px; }
.group { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.group.selected { border-color: var(--accent); box-shadow: 0 0 0 1px var(--accent); }
.group .n { font-weight: 600; font-size: 18px; float: right; }
.group ul { margin: 6px 0 0; padding-left: 18px; color: var(--muted); font-size: 12px; }
.notice { background: #e7f6ee; border: 1px solid #b6e2c8; padding: 8px 12px; border-radius: 6px; }
.warning { background: #fff6e0; border: 1px solid #f0d9a0; padding: 8px 12px; border-radius: 6px; }
.message { white-space: pre-wrap; overflow-wrap: anywhere; }
pre { background: #0f172a; color: #e2e8f0; padding: 12px; border-radius: 8px; overflow: auto; max-height: 420px; white-space: pre-wrap; overflow-wrap: anywhere; }
.ctl { color: #f59e0b; background: rgba(245,158,11,.12); border-radius: 3px; font-family: ui-monospace, monospace; font-size: 11px; }
dl.fields { display: grid; grid-template-columns: 140px 1fr; gap: 4px 12px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
dl.fields dt { color: var(--muted); } dl.fields dd { margin: 0; overflow-wrap: anywhere; }
ol.timeline { list-style: none; padding: 0; margin: 0; border-left: 2px solid var(--line); }
ol.timeline li { position: relative; margin: 0 0 10px 0; padding: 6px 12px 6px 18px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin-left: 14px; }
ol.timeline li::before { content: ""; position: absolute; left: -22px; top: 12px; width: 12px; height: 12px; border-radius: 50%; background: var(--warn); border: 2px solid var(--bg); }
ol.timeline li.outcome-dead::before { background: var(--dead); } ol.timeline li.outcome-released::before { background: var(--muted); }
ol.timeline .head { font-weight: 600; } ol.timeline .meta { color: var(--muted); font-size: 12px; }
.pager { display: flex; gap: 12px; margin-top: 10px; }
.ids { font-family: ui-monospace, monospace; font-size: 12px; overflow-wrap: anywhere; }
`;

const SCRIPT = `'use strict';
// faultline dashboard: refresh the parts of the page marked data-live while the tab is visible.
// A hidden tab asks nothing; an unchanged page answers 304 without a body.
(function () {
  var interval = Number(document.body && document.body.dataset.refreshMs) || 0;
  if (interval <= 0 || !document.querySelector('[data-live]')) return;
  var etag = null;
  var busy = false;
  function refresh() {
    if (busy || document.visibilityState !== 'visible') return;
    busy = true;
    var headers = { 'X-Faultline-Live': '1' };
    if (etag) headers['If-None-Match'] = etag;
    fetch(location.href, { headers: headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' })
      .then(function (res) {
        if (res.status !== 200) return;
        etag = res.headers.get('ETag');
        return res.text().then(function (text) {
          // DOMParser never runs scripts; the server escaped every stored string.
          var next = new DOMParser().parseFromString(text, 'text/html');
          document.querySelectorAll('[data-live]').forEach(function (region) {
            var fresh = next.querySelector('[data-live="' + CSS.escape(region.getAttribute('data-live')) + '"]');
            if (!fresh || fresh.innerHTML === region.innerHTML) return;
            // Never pull the ground from under the pointer or the keyboard: wait until they leave.
            if (region.matches(':hover') || region.contains(document.activeElement)) return;
            region.replaceWith(document.importNode(fresh, true));
          });
          document.body.dataset.refreshedAt = String(Date.now());
        });
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  setInterval(refresh, interval);
  document.addEventListener('visibilitychange', refresh);
})();
`;

interface Asset {
  readonly body: string;
  readonly type: string;
  readonly etag: string;
}

function asset(body: string, type: string): Asset {
  return {
    body,
    type,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
  };
}

export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ['app.css', asset(CSS, 'text/css; charset=utf-8')],
  ['app.js', asset(SCRIPT, 'text/javascript; charset=utf-8')],
]);
