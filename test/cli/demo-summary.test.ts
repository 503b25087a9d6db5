import { afterEach, describe, expect, it } from 'vitest';
import { type ItemsApi, startItemsApi } from '../../src/demo/api.js';
import { Crawler } from '../../src/demo/crawler.js';
import { buildReport } from '../../src/demo/report.js';
import { invocation, renderSummary } from '../../src/cli/demo-summary.js';
import { MemoryStore } from '../../src/stores/memory/index.js';

// Plain tables even when the test runner has a terminal.
process.env.NO_COLOR = '1';

describe('the demo summary of a real crawl (in process, memory store, local flaky API)', () => {
  let api: ItemsApi | undefined;
  let store: MemoryStore | undefined;
  afterEach(async () => {
    await api?.close();
    await store?.close();
  });

  it('renders counts, a table by category with the plan action, and dead letters with suggestions', async () => {
    api = await startItemsApi({ burstEvery: 0, rateLimitEvery: 0 });
    store = new MemoryStore();
    const crawler = new Crawler({
      store,
      apiUrl: api.url,
      items: 200,
      timeScale: 0.001,
      requestTimeoutMs: 2_000,
      concurrency: 8,
    });
    const report = await buildReport(crawler, await crawler.run());
    expect(report.totals.completed + report.totals.dead).toBe(200);

    const text = renderSummary(report, '--store sqlite:./x.db', '', {
      cli: 'faultline',
      demo: 'faultline demo',
    });
    expect(text).toContain(
      `Crawl finished: 200 of 200 items done (${report.totals.completed} completed, ${report.totals.dead} dead-lettered) in 1 run.`,
    );
    expect(text).toMatch(/│ category\s+│ plan\s+│ failed runs\s+│ dead letters\s+│/);
    for (const row of report.byCategory)
      expect(text).toMatch(
        new RegExp(
          `│ ${row.category}\\s+│ ${row.action}\\s+│ ${row.failures}\\s+│ ${row.deadLetters}\\s+│`,
        ),
      );
    for (const group of report.deadLetters) {
      expect(text).toContain(`${group.category} × ${group.count}`);
      for (const suggestion of group.suggestions) expect(text).toContain(`- ${suggestion}`);
    }
    expect(text).toContain('Inspect them: faultline dead list --store sqlite:./x.db');
    expect(text).not.toContain('Progress is saved');
  });

  it('names the command as it was started', () => {
    expect(invocation({ npm_lifecycle_event: 'demo' })).toEqual({
      cli: 'node dist/cli.js',
      demo: 'npm run demo --',
    });
    expect(invocation({ npm_lifecycle_event: 'test' })).toEqual({
      cli: 'npx faultline',
      demo: 'npx faultline demo',
    });
    expect(invocation({})).toEqual({ cli: 'npx faultline', demo: 'npx faultline demo' });
  });
});
