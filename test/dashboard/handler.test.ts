import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboard } from '../../src/dashboard/index.js';
import type { DurableStore } from '../../src/durable/store.js';
import { ConfigError } from '../../src/faults/errors.js';
import { MemoryStore } from '../../src/stores/memory/memory-store.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { addDeadLetters } from './fixtures.js';
import { Client } from './http-client.js';
import { serve } from './serve.js';

const WALL = Date.UTC(2030, 5, 1, 12);
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function filled(): Promise<{ store: MemoryStore; ids: string[]; clock: VirtualClock }> {
  const store = new MemoryStore();
  const ids = await addDeadLetters(store, WALL, [
    { category: 'rate_limit', message: 'HTTP 429 Too Many Requests' },
    { category: 'rate_limit', message: 'HTTP 429 again', queue: 'upload' },
    { category: 'validation', message: 'bad item 7', checkpoint: '{"page":3}' },
    { category: 'rate_limit', message: 'HTTP 429 third' },
  ]);
  await store.putCheckpoint('crawl:cursor', '{"at":5}', WALL);
  return { store, ids, clock: new VirtualClock({ wallStart: WALL }) };
}

async function mount(options: Parameters<typeof createDashboard>[0]): Promise<Client> {
  const served = await serve(createDashboard(options));
  closers.push(served.close);
  return new Client(served.url);
}

describe('dashboard overview: workers with a job', () => {
  it('counts the workers holding a live lease, per queue and in all, and says idle workers are not known', async () => {
    const { store, clock } = await filled();
    await store.enqueue(
      ['crawl', 'crawl', 'crawl', 'upload'].map((queue) => ({
        queue,
        payload: '{}',
        priority: 0,
        runAt: WALL,
      })),
      WALL,
    );
    const lease = { leaseMs: 60_000, now: WALL, maxStrikes: 3 };
    await store.claim({ queue: 'crawl', workerId: 'crawler-1', limit: 2, ...lease });
    await store.claim({ queue: 'crawl', workerId: 'crawler-2', limit: 1, ...lease });
    await store.claim({ queue: 'upload', workerId: 'crawler-1', limit: 1, ...lease });
    const client = await mount({ store, clock });
    const page = (await client.get('/')).text;
    // Two distinct workers in all; two on crawl, one on upload.
    expect(page).toMatch(/<div class="n">2<\/div><div class="l">workers with a job<\/div>/);
    const cell = (queue: string, name: string) =>
      new RegExp(
        `data-queue="${queue}">[\\s\\S]*?<td class="num" data-count="${name}">([^<]*)</td>`,
      ).exec(page)?.[1];
    expect(cell('crawl', 'running')).toBe('3');
    expect(cell('crawl', 'workers')).toBe('2');
    expect(cell('upload', 'running')).toBe('1');
    expect(cell('upload', 'workers')).toBe('1');
    expect(page).toContain('Stores keep no record of idle workers');
  });

  it('says so when the store cannot tell which workers hold jobs', async () => {
    const { store, clock } = await filled();
    // The same store without the optional method.
    const blind: DurableStore = Object.create(store, { leaseHolders: { value: undefined } });
    const client = await mount({ store: blind, clock });
    const page = (await client.get('/')).text;
    expect(page).not.toContain('<div class="l">workers with a job</div>');
    expect(page).toContain('This store does not tell which workers hold jobs');
    expect(page).toContain('title="this store does not tell">?</span>');
  });
});

describe('dashboard handler in node:http', () => {
  it('serves the overview, the dead letters by category and one dead letter, under a base path', async () => {
    const { store, ids, clock } = await filled();
    const client = await mount({ store, basePath: '/ops/queues', clock });
    const overview = await client.get('/ops/queues/');
    expect(overview.status).toBe(200);
    expect(overview.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(overview.text).toContain('data-queue="crawl"');
    expect(overview.text).toContain('href="/ops/queues/dead?queue=crawl"');
    const list = await client.get('/ops/queues/dead?category=rate_limit');
    expect([...list.text.matchAll(/<tr data-id="([^"]+)"/g)].map((m) => m[1])).toEqual([
      ids[3],
      ids[1],
      ids[0],
    ]);
    expect(list.text).toContain('Lower the request rate or concurrency');
    const one = await client.get(`/ops/queues/dead/${encodeURIComponent(ids[2]!)}`);
    expect(one.text).toContain('bad item 7');
    expect(one.text).toContain('Attempt 1 · dead');
    expect(one.text).toContain('&quot;page&quot;: 3');
    expect((await client.get('/ops/queues/dead/nope')).status).toBe(404);
    expect((await client.get('/ops/queues/checkpoints')).text).toContain('crawl:cursor');
    expect((await client.get('/ops/queues/shared')).text).toContain('keeps no state shared');
    expect((await client.get('/ops/queues/dead?category=bogus')).status).toBe(400);
  });

  it('pages dead letters by keyset links', async () => {
    const { store, ids, clock } = await filled();
    const client = await mount({ store, pageSize: 2, clock });
    const first = await client.get('/dead');
    const next = /<a rel="next" href="([^"]+)"/.exec(first.text)![1]!.replace(/&amp;/g, '&');
    expect(next).toContain('beforeId=');
    const second = await client.get(next);
    const seen = [first.text, second.text].flatMap((t) =>
      [...t.matchAll(/<tr data-id="([^"]+)"/g)].map((m) => m[1]),
    );
    expect(seen).toEqual([...ids].reverse());
    expect(second.text).not.toContain('rel="next"');
  });

  it('a GET never changes the store; a POST needs the CSRF token of its cookie', async () => {
    const { store, clock } = await filled();
    const client = await mount({ store, clock });
    const preview = await client.get('/dead/preview?action=requeue&category=rate_limit');
    expect(preview.text).toContain('Dry run: <strong>3</strong>');
    expect((await store.stats('crawl', WALL)).dead).toBe(3);
    const { action, fields } = Client.formOf(preview.text);
    expect(action).toBe('/dead/requeue');
    expect((await client.post(action, { ...fields, csrf: 'forged' })).status).toBe(403);
    expect((await new Client(client.base).post(action, fields)).status).toBe(403);
    expect((await client.post(action, fields, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await store.stats('crawl', WALL)).dead).toBe(3);
    const done = await client.post(action, fields, { origin: client.base });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/dead?category=rate_limit&done=requeued&n=3&of=3');
    expect(await store.countDeadByCategory()).toEqual([{ category: 'validation', count: 1 }]);
    expect((await client.get(done.headers.get('location')!)).text).toContain(
      'Requeued 3 dead letters.',
    );
    expect((await client.get('/dead/requeue')).status).toBe(404);
  });

  it('an action touches only what its preview showed: later deaths are left alone', async () => {
    const { store, clock } = await filled();
    const client = await mount({ store, clock });
    const preview = await client.get('/dead/preview?action=purge&text=429');
    const { action, fields } = Client.formOf(preview.text);
    await addDeadLetters(store, WALL + 60_000, [
      { category: 'rate_limit', message: 'HTTP 429 after the preview' },
    ]);
    await clock.advance(60_000);
    const done = await client.post(action, fields);
    expect(done.headers.get('location')).toContain('done=purged&n=3');
    expect((await store.listDead()).map((d) => d.fault.message)).toEqual([
      'HTTP 429 after the preview',
      'bad item 7',
    ]);
  });

  it('requeues one dead letter and clears a checkpoint after confirmation', async () => {
    const { store, ids, clock } = await filled();
    const client = await mount({ store, clock });
    const preview = await client.get(
      `/dead/preview?action=requeue&id=${encodeURIComponent(ids[2]!)}`,
    );
    const { action, fields } = Client.formOf(preview.text);
    expect((await client.post(action, fields)).status).toBe(303);
    expect((await store.getJob(ids[2]!))!.state).toBe('waiting');
    expect((await client.post(action, fields)).status).toBe(409);
    const confirm = await client.get('/checkpoints/view?key=crawl%3Acursor&confirm=clear');
    const clear = Client.formOf(confirm.text);
    expect((await client.post(clear.action, clear.fields)).headers.get('location')).toBe(
      '/checkpoints?done=cleared&n=1',
    );
    expect(await store.getCheckpoint('crawl:cursor')).toBeUndefined();
  });

  it('read-only shows no action and refuses every one', async () => {
    const { store, ids, clock } = await filled();
    const client = await mount({ store, readOnly: true, clock });
    const list = await client.get('/dead');
    expect(list.text).toContain('read-only');
    expect(list.text).not.toContain('/dead/preview');
    expect((await client.get(`/dead/${ids[0]}`)).text).not.toContain('Requeue this job');
    expect((await client.get('/dead/preview?action=requeue')).status).toBe(403);
    expect((await client.post('/dead/requeue', { id: ids[0]!, csrf: 'any' })).status).toBe(403);
    expect((await store.stats('crawl', WALL)).dead).toBe(3);
  });

  it('with a token, refuses requests without it; a ?token= visit starts a session without keeping the token in the URL', async () => {
    const { store, clock } = await filled();
    const token = 'an-access-token-of-some-length';
    const client = await mount({ store, token, clock });
    const refused = await client.get('/dead');
    expect(refused.status).toBe(401);
    expect(refused.text).not.toContain('crawl');
    expect((await client.get('/dead?token=wrong-token-wrong-token')).status).toBe(401);
    const visit = await client.get(`/dead?category=validation&token=${token}`);
    expect(visit.status).toBe(303);
    expect(visit.headers.get('location')).toBe('/dead?category=validation');
    expect(visit.headers.get('set-cookie')).not.toContain(token);
    expect((await client.get('/dead')).status).toBe(200);
    const bearer = new Client(client.base, { authorization: `Bearer ${token}` });
    expect((await bearer.get('/')).status).toBe(200);
  });

  it('asks the auth hook about every request', async () => {
    const { store, clock } = await filled();
    const client = await mount({
      store,
      clock,
      auth: (req) => req.headers['x-operator'] === 'ana',
    });
    expect((await client.get('/')).status).toBe(403);
    expect((await new Client(client.base, { 'x-operator': 'ana' }).get('/')).status).toBe(200);
  });

  it('never shows a credential from a store error', async () => {
    const { store, clock } = await filled();
    const failing: DurableStore = Object.assign(Object.create(store) as DurableStore, {
      queues: async () => {
        throw new Error('connect ECONNREFUSED redis://ops:hunter2-secret@10.0.0.5:6379');
      },
    });
    const client = await mount({ store: failing, clock });
    const page = await client.get('/');
    expect(page.status).toBe(500);
    expect(page.text).toContain('redis://***@10.0.0.5:6379');
    expect(page.text).not.toContain('hunter2');
  });

  it('serves several stores by name', async () => {
    const { store, clock } = await filled();
    const client = await mount({ stores: { main: store, spare: new MemoryStore() }, clock });
    expect((await client.get('/')).text).toContain('href="/s/main/"');
    expect((await client.get('/s/main/dead')).text).toContain('HTTP 429 again');
    expect((await client.get('/s/spare/dead')).text).toContain('No dead letter matches');
    expect((await client.get('/s/none/dead')).status).toBe(404);
  });

  it('answers 304 to a live refresh of an unchanged page, and serves its assets', async () => {
    const { store, clock } = await filled();
    const client = await mount({ store, clock });
    const page = await client.get('/dead');
    const etag = page.headers.get('etag')!;
    expect(
      (await client.get('/dead', { 'if-none-match': etag, 'x-faultline-live': '1' })).status,
    ).toBe(304);
    const css = /href="(\/assets\/app\.css\?v=[^"]+)"/.exec(page.text)![1]!;
    expect((await client.get(css)).headers.get('content-type')).toContain('text/css');
    expect((await client.get('/assets/app.js')).text).toContain('data-live');
  });

  it('refuses bad options with a ConfigError naming them (never echoing a token)', () => {
    const store = new MemoryStore();
    expect(() => createDashboard({})).toThrow(ConfigError);
    expect(() => createDashboard({ store, basePath: 'ops/' })).toThrow(/basePath/);
    expect(() => createDashboard({ store, token: 'short-secret' })).toThrow(
      /token: "\(hidden\)"|token/,
    );
    expect(() => createDashboard({ store, token: 'short-secret' })).not.toThrow(/short-secret/);
    expect(() => createDashboard({ store, readOnly: 'yes' as unknown as boolean })).toThrow(
      /readOnly/,
    );
    expect(() => createDashboard({ store: {} as DurableStore })).toThrow(/store/);
  });
});

describe('dashboard handler in Express', () => {
  it('mounts under a path with app.use, including the actions', async () => {
    const { store, clock } = await filled();
    const app = express();
    app.get('/health', (_req, res) => {
      res.send('ok');
    });
    app.use('/admin/faultline', createDashboard({ store, basePath: '/admin/faultline', clock }));
    const served = await serve(app);
    closers.push(served.close);
    const client = new Client(served.url);
    expect((await client.get('/health')).text).toBe('ok');
    const list = await client.get('/admin/faultline/dead?queue=upload');
    expect(list.status).toBe(200);
    expect(list.text).toContain(
      'href="/admin/faultline/dead/preview?action=requeue&amp;queue=upload"',
    );
    const preview = await client.get('/admin/faultline/dead/preview?action=requeue&queue=upload');
    const { action, fields } = Client.formOf(preview.text);
    expect(action).toBe('/admin/faultline/dead/requeue');
    const done = await client.post(action, fields);
    expect(done.headers.get('location')).toBe(
      '/admin/faultline/dead?queue=upload&done=requeued&n=1&of=1',
    );
    expect((await store.stats('upload', WALL)).waiting).toBe(1);
  });
});
