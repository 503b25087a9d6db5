import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../../src/dashboard/index.js';
import { MemoryStore } from '../../src/stores/memory/memory-store.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { CLI, REPO, runCli, TSX } from '../cli/run-cli.js';
import { launchBrowser } from './browser.js';
import { addDeadLetters } from './fixtures.js';
import { serve } from './serve.js';

// End to end in Debian's Chromium: a store filled by the real demo, the dashboard in node:http.
const dir = mkdtempSync(join(tmpdir(), 'faultline-dashboard-'));
// Every run takes the screenshots; `npm run screenshots` writes them over the README's images in
// docs/img (a plain test run would otherwise leave tracked files changed).
const SCREENSHOTS = process.env.FAULTLINE_SCREENSHOTS === 'docs' ? join(REPO, 'docs', 'img') : dir;
const DB = join(dir, 'demo.db');
let store: SqliteStore;
let browser: { context: BrowserContext; close: () => Promise<void> };
let base: string;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const demo = await runCli(['demo', '--items', '300', '--no-log', '--store', `sqlite:${DB}`], {
    cwd: dir,
  });
  expect(demo.code, demo.stderr).toBe(0);
  store = new SqliteStore(DB);
  const served = await serve(createDashboard({ store, refreshMs: 300 }));
  closers.push(served.close);
  base = served.url;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  for (const close of closers.splice(0)) await close();
  await browser?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(path: string, at = base): Promise<Page> {
  const page = await browser.context.newPage();
  // Fail with Playwright's own message (what it waited for) well before the test's timeout.
  page.setDefaultTimeout(10_000);
  const response = await page.goto(`${at}${path}`);
  expect(response?.status()).toBe(200);
  return page;
}

const cellTexts = (page: Page, selector: string) => page.locator(selector).allInnerTexts();

describe('dashboard in Chromium', () => {
  it('shows the overview of the demo store: the crawl queue, its dead letters and the jobs-per-minute chart', async () => {
    const dead = (await store.stats('crawl', Date.now())).dead;
    expect(dead).toBeGreaterThan(0);
    const page = await open('/');
    const row = page.locator('tr[data-queue="crawl"]');
    await expect.poll(() => row.locator('td[data-count="dead"]').innerText()).toBe(String(dead));
    expect(await page.locator('figure.chart svg rect.bar-completed').count()).toBeGreaterThan(0);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-overview.png'), fullPage: true });
    await page.close();
  });

  it('filters dead letters by category and opens one with its attempt history', async () => {
    const page = await open('/dead');
    await page.selectOption('select[name="category"]', 'validation');
    await Promise.all([
      page.waitForURL(/category=validation/),
      page.click('form.filters button[type="submit"]'),
    ]);
    const categories = await cellTexts(page, 'table.dead tbody td:nth-child(3)');
    const expected = (await store.listDead({ category: 'validation' })).length;
    expect(categories).toHaveLength(expected);
    expect(new Set(categories)).toEqual(new Set(['validation']));
    await Promise.all([
      page.waitForURL(/\/dead\/\d+$/),
      page.locator('table.dead tbody a').first().click(),
    ]);
    expect(await page.locator('ol.timeline li').count()).toBeGreaterThan(0);
    expect(await page.locator('ol.timeline li').last().innerText()).toContain('dead');
    expect(await page.locator('pre.payload').innerText()).toMatch(/"item"|"id"|\{/);
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-dead-letter.png'), fullPage: true });
    await page.close();
  });

  it('dry-runs, then requeues a filtered set: the counts change and the store agrees', async () => {
    const before = await store.countDeadByCategory();
    const permanent = before.find((g) => g.category === 'permanent')!.count;
    const page = await open('/dead?category=permanent');
    await Promise.all([page.waitForURL(/preview/), page.click('text=Requeue these…')]);
    expect(await page.locator('p.notice strong').innerText()).toBe(String(permanent));
    expect(await store.countDeadByCategory()).toEqual(before);
    await Promise.all([
      page.waitForURL(/done=requeued/),
      page.click('form.confirm button[type="submit"]'),
    ]);
    expect(await page.locator('p.notice').innerText()).toBe(
      `Requeued ${permanent} dead letter${permanent === 1 ? '' : 's'}.`,
    );
    expect(await page.locator('.group[data-category="permanent"]').count()).toBe(0);
    expect(await store.countDeadByCategory()).toEqual(
      before.filter((g) => g.category !== 'permanent'),
    );
    expect((await store.stats('crawl', Date.now())).waiting).toBe(permanent);
    await page.close();
  });

  it('updates the counts without a reload when the store changes', async () => {
    const page = await open('/');
    const deadCell = page.locator('tr[data-queue="crawl"] td[data-count="dead"]');
    const dead = (await store.stats('crawl', Date.now())).dead;
    expect(await deadCell.innerText()).toBe(String(dead));
    await store.requeueDead({ query: { queue: 'crawl' } }, { now: Date.now() });
    await expect.poll(() => deadCell.innerText(), { timeout: 10_000 }).toBe('0');
    await page.close();
  });

  it('shows hostile stored strings as text: nothing executes', async () => {
    const hostile = new MemoryStore();
    const now = Date.now();
    const script = '<script>window.__xss = "script"</script>';
    const img = '<img src=x onerror="window.__xss = \'img\'">';
    const url = 'javascript:window.__xss = "url"';
    const controls = 'bell\u0007 escape\u001b[31m rtl\u202eevil';
    const message = `${script} ${img} ${url} ${controls}`;
    const payload = JSON.stringify({ html: img, link: url, script, controls });
    const [id] = await addDeadLetters(hostile, now, [
      {
        category: 'validation',
        message,
        payload,
        queue: `q${img}`,
        checkpoint: JSON.stringify({ next: script }),
      },
    ]);
    await hostile.putCheckpoint(`key${script}`, JSON.stringify({ img }), now);
    const served = await serve(createDashboard({ store: hostile }));
    closers.push(served.close);
    const dialogs: string[] = [];
    const violations: string[] = [];
    for (const path of [
      '/',
      '/dead',
      `/dead/${encodeURIComponent(id!)}`,
      `/dead/preview?action=requeue&text=${encodeURIComponent('<script>')}`,
      '/checkpoints',
    ]) {
      const page = await browser.context.newPage();
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      page.on('console', (msg) => {
        if (msg.text().includes('Content Security Policy')) violations.push(msg.text());
      });
      expect((await page.goto(`${served.url}${path}`))?.status()).toBe(200);
      expect(await page.evaluate(() => (globalThis as { __xss?: string }).__xss)).toBeUndefined();
      expect(await page.locator('main img, main script, main a[href^="javascript:"]').count()).toBe(
        0,
      );
      const text = await page.locator('main').innerText();
      if (path.startsWith('/dead/')) {
        expect(text).toContain('<script>window.__xss = "script"</script>');
        expect(text).toContain('javascript:window.__xss');
        expect(text).toContain('<img src=x onerror=');
      }
      if (path === `/dead/${encodeURIComponent(id!)}`) {
        // Control characters show as visible markers, in the message and the payload.
        expect(text).toContain('bell\\u{7} escape\\u{1b}[31m rtl\\u{202e}evil');
        expect(text).toContain('"html": "<img src=x onerror=');
      }
      await page.close();
    }
    expect(dialogs).toEqual([]);
    expect(violations).toEqual([]);
  });

  it('read-only: no action on the page, and a POST is refused', async () => {
    const served = await serve(createDashboard({ store, readOnly: true }));
    closers.push(served.close);
    const page = await open('/dead', served.url);
    expect(await page.locator('text=read-only').count()).toBeGreaterThan(0);
    expect(await page.locator('a[href*="/dead/preview"], form[method="post"]').count()).toBe(0);
    const refused = await page.request.post(`${served.url}/dead/requeue`, {
      form: { queue: 'crawl', until: String(Date.now()) },
    });
    expect(refused.status()).toBe(403);
    expect((await page.request.get(`${served.url}/dead/preview?action=purge`)).status()).toBe(403);
    await page.close();
  });
});

describe('faultline dashboard on a non-loopback address', () => {
  const token = 'browser-test-token-0123456789';
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('refuses to start on 0.0.0.0 without a token', async () => {
    const result = await runCli(
      ['dashboard', '--store', `sqlite:${DB}`, '--host', '0.0.0.0', '--port', '0'],
      { env: { FAULTLINE_DASHBOARD_TOKEN: undefined } },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Refusing to serve the dashboard on 0.0.0.0 without a token');
  });

  it('bound to 0.0.0.0 with a token: a request without it is refused, the token opens a session', async () => {
    child = spawn(
      process.execPath,
      [
        '--import',
        TSX,
        CLI,
        'dashboard',
        '--store',
        `sqlite:${DB}`,
        '--host',
        '0.0.0.0',
        '--port',
        '0',
        '--json',
      ],
      {
        cwd: dir,
        env: { ...process.env, FAULTLINE_DASHBOARD_TOKEN: token, FAULTLINE_STORE: undefined },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const started = await new Promise<{ url: string }>((resolve, reject) => {
      child!.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.trimEnd().endsWith('}')) resolve(JSON.parse(stdout) as { url: string });
      });
      child!.on('close', () => reject(new Error(`the dashboard exited: ${stderr}`)));
    });
    expect(stderr).not.toContain(token);
    const port = new URL(started.url).port;
    const local = `http://127.0.0.1:${port}`;
    const refused = await fetch(`${local}/dead`);
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain('crawl');
    const page = await browser.context.newPage();
    await page.goto(`${local}/dead?token=${token}`);
    expect(page.url()).toBe(`${local}/dead`);
    expect(await page.locator('h1').innerText()).toBe('Dead letters');
    expect(
      (await fetch(`${local}/`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    await page.close();
  });
});
