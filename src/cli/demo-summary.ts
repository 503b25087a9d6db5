import type { CrawlReport } from '../demo/report.js';
import { formatDuration, table, truncate } from './output.js';

/**
 * How to type the command again: `npx faultline` in a project that installed it (the bin is not
 * on PATH); inside this repository, where `npm run demo` started it, `node dist/cli.js`.
 */
export function invocation(env: Readonly<Record<string, string | undefined>> = process.env): {
  readonly cli: string;
  readonly demo: string;
} {
  return env.npm_lifecycle_event === 'demo'
    ? { cli: 'node dist/cli.js', demo: 'npm run demo --' }
    : { cli: 'npx faultline', demo: 'npx faultline demo' };
}

/** The demo's closing report: counts, a table by category, dead letters with what to do. */
export function renderSummary(
  report: CrawlReport,
  storeFlag: string,
  resumeFlags = storeFlag,
  how = invocation(),
): string {
  const t = report.totals;
  const lines: string[] = [];
  const state = report.finished
    ? 'Crawl finished'
    : report.aborted
      ? 'Crawl stopped by the recovery plan'
      : 'Crawl interrupted';
  lines.push('');
  lines.push(
    `${state}: ${t.completed + t.dead} of ${report.items} items done (${t.completed} completed, ${t.dead} dead-lettered) in ${report.runs} run${report.runs === 1 ? '' : 's'}.`,
  );
  const r = report.thisRun;
  lines.push(
    `This run: ${formatDuration(report.durationMs)}, ${r.completed} completed, ${r.retried} retried, ${r.deadLettered} dead-lettered, ` +
      `${r.pauses} pause${r.pauses === 1 ? '' : 's'} (${formatDuration(r.pausedMs)}), breaker ${report.breaker}.`,
  );
  if (report.byCategory.length > 0) {
    lines.push('');
    lines.push('Failures by category (this run) and dead letters (whole crawl):');
    lines.push(
      table(
        ['category', 'plan', 'failed runs', 'dead letters'],
        report.byCategory.map((c) => [c.category, c.action, c.failures, c.deadLetters]),
      ),
    );
  }
  if (report.deadLetters.length > 0) {
    lines.push('');
    lines.push('Dead letters and what to do about them:');
    for (const group of report.deadLetters) {
      lines.push(
        `  ${group.category} × ${group.count}, e.g. ${group.example.id}: ${truncate(group.example.message, 110)}`,
      );
      for (const suggestion of group.suggestions) lines.push(`      - ${suggestion}`);
    }
    lines.push(
      `  Inspect them: ${how.cli} dead list ${storeFlag} · requeue: ${how.cli} dead requeue --queue ${report.queue} ${storeFlag}`,
    );
  }
  if (report.aborted) {
    lines.push('');
    lines.push(`Stopped: ${report.aborted.reason}`);
    for (const suggestion of report.aborted.suggestions) lines.push(`  - ${suggestion}`);
  }
  if (!report.finished) {
    const left = t.waiting + t.delayed + t.running + t.notEnqueued;
    lines.push('');
    lines.push(
      `Progress is saved (checkpoint crawl:${report.queue}; ${left} items left). Resume with: ${how.demo} ${resumeFlags}`
        .trimEnd()
        .replace(/ --$/, ''),
    );
  }
  return lines.join('\n');
}
