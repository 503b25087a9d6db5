import type { Throughput } from '../durable/store.js';
import { count, time } from './format.js';
import { html, type SafeHtml } from './html.js';

const WIDTH = 1200;
const HEIGHT = 150;
const BOTTOM = 18;

/**
 * Jobs per minute as an inline SVG bar chart (completed below, dead-lettered stacked on top),
 * drawn on the server: no chart library, no script, works offline and under a CSP without
 * 'unsafe-inline' (colours come from the stylesheet's classes, not style attributes).
 */
export function throughputChart(data: Throughput, since: number, bucketMs: number): SafeHtml {
  const buckets = data.completed.length;
  const totals = data.completed.map((c, i) => c + data.dead[i]!);
  const max = Math.max(1, ...totals);
  const slot = WIDTH / buckets;
  const barWidth = Math.max(1, slot - 2);
  const plot = HEIGHT - BOTTOM;
  const scale = (n: number) => (n / max) * (plot - 4);
  const bars = data.completed.map((completed, i) => {
    const dead = data.dead[i]!;
    const x = (i * slot + 1).toFixed(1);
    const hc = scale(completed);
    const hd = scale(dead);
    const label = `${time(since + i * bucketMs).slice(11, 16)}: ${count(completed)} completed, ${count(dead)} dead`;
    return html`<g><title>${label}</title>${completed > 0 ? html`<rect class="bar-completed" x="${x}" y="${(plot - hc).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${hc.toFixed(1)}"></rect>` : ''}${dead > 0 ? html`<rect class="bar-dead" x="${x}" y="${(plot - hc - hd).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${hd.toFixed(1)}"></rect>` : ''}</g>`;
  });
  const done = data.completed.reduce((a, b) => a + b, 0);
  const dead = data.dead.reduce((a, b) => a + b, 0);
  return html`<figure class="chart">
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${`Jobs per minute over the last hour: ${done} completed, ${dead} dead-lettered`}">
<line class="axis" x1="0" y1="${plot}" x2="${WIDTH}" y2="${plot}"></line>
${bars}
<text class="tick" x="0" y="${HEIGHT - 4}">60 min ago</text>
<text class="tick" x="${WIDTH}" y="${HEIGHT - 4}" text-anchor="end">now</text>
<text class="tick" x="2" y="12">${count(max)}/min</text>
</svg>
<figcaption><span class="key key-completed"></span> completed ${count(done)} · <span class="key key-dead"></span> dead-lettered ${count(dead)} in the last hour</figcaption>
</figure>`;
}
