import type { DownloadReport } from './downloader.js';

/** The final report as lines for a terminal: per upstream, by category, then every failure with what to do. */
export function formatReport(report: DownloadReport): string[] {
  const lines: string[] = [];
  const failed = report.failures.length;
  lines.push(`downloaded ${report.downloaded.length} item(s), ${failed} failed`);
  for (const [name, u] of Object.entries(report.upstreams)) {
    lines.push(
      `  upstream ${name}: ${u.downloaded} ok, ${u.failed} failed; breaker ${u.breakerState} (opened ${u.breakerOpened}×); ` +
        `success rate ${Math.round(u.successRate * 100)} % (${u.succeededRequests} of ${u.requests} requests), retry delays now ×${u.delayFactor.toFixed(1)}`,
    );
  }
  const categories = Object.entries(report.byCategory);
  if (categories.length > 0)
    lines.push(`failures by category: ${categories.map(([c, n]) => `${c} ${n}`).join(', ')}`);
  for (const f of report.failures) {
    lines.push(
      `  ✗ ${f.item} (${f.upstream}) ${f.category}${f.status === undefined ? '' : ` ${f.status}`} after ${f.requests} request(s): ${f.message}`,
    );
    for (const s of f.suggestions) lines.push(`      → ${s}`);
  }
  return lines;
}
