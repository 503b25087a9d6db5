import { afterEach, describe, expect, it } from 'vitest';
import { fetchItem, upstream } from '../../examples/quickstart/quickstart.js';
import { classify, RetriesExhaustedError } from '../../src/index.js';
import { type FlakyServer, flakyServer } from '../../src/testing/index.js';

// The README's 30-second example against a real local HTTP server. Retry delays are the default
// plan's (1 s base with full jitter), so only schedules that need no long wait are used here.
describe('README quickstart', () => {
  let server: FlakyServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('returns the item when the server answers', async () => {
    server = await flakyServer();
    server.script('/items/1', { status: 200, body: { id: 1 } });
    await expect(fetchItem(server.url, 1)).resolves.toEqual({ id: 1 });
  });

  it('does not retry a 401: the caller gets the Response, classified as auth with suggestions', async () => {
    server = await flakyServer();
    server.script('/items/7', 401, { status: 200, body: { id: 7 } });
    const error = await fetchItem(server.url, 7).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(RetriesExhaustedError);
    const fault = classify(error);
    expect(fault.category).toBe('auth');
    expect(fault.status).toBe(401);
    expect(fault.suggestions.length).toBeGreaterThan(0);
    expect(server.requestsTo('/items/7')).toHaveLength(1);
  });

  it('does not retry a 404', async () => {
    server = await flakyServer();
    server.script('/items/9', 404, { status: 200, body: { id: 9 } });
    const fault = classify(await fetchItem(server.url, 9).catch((e: unknown) => e));
    expect(fault.status).toBe(404);
    expect(server.requestsTo('/items/9')).toHaveLength(1);
  });

  it('describes its stages outermost first', () => {
    const text = upstream.describe();
    expect(text.indexOf('retry')).toBeLessThan(text.indexOf('timeout'));
  });
});
