/** The crawler's plan and environment against the system's numbers, without processes. */
import { describe, expect, it } from 'vitest';
import { crawlerPlan, RATE_LIMIT_PAUSE_MS } from '../../src/demo/crawler.js';
import { crawlerSettings } from '../../examples/crawler/settings.js';
import { ConfigError, createClassifier } from '../../src/faults/index.js';

const NOW = 1_800_000_000_000;
const classify = createClassifier({ wallTime: () => NOW });
const http = (status: number, headers: Record<string, string> = {}) =>
  classify(Object.assign(new Error(`HTTP ${status}`), { status, headers }));
const reset = classify(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));

describe('crawler plan', () => {
  it('network: 5 retries at 1, 2, 4, 8, 16 s (6 attempts), then abort', () => {
    const plan = crawlerPlan();
    const decisions = [1, 2, 3, 4, 5, 6].map((attempt) => plan.decide(reset, { attempt }));
    expect(decisions.map((d) => d.action)).toEqual([
      'retry',
      'retry',
      'retry',
      'retry',
      'retry',
      'abort',
    ]);
    expect(decisions.slice(0, 5).map((d) => d.delayMs)).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000,
    ]);
    // Timeouts are network trouble there too; a 503 that outlasts its retries is dead-lettered, not an outage.
    expect(
      plan.decide(classify(Object.assign(new Error('t'), { code: 'ETIMEDOUT' })), { attempt: 6 })
        .action,
    ).toBe('abort');
    expect(plan.decide(http(503), { attempt: 5 }).delayMs).toBe(16_000);
    expect(plan.decide(http(503), { attempt: 6 }).action).toBe('give_up');
  });

  it('rate limit: pauses until x-rate-limit-reset; without a header, 15 minutes', () => {
    const plan = crawlerPlan({ timeScale: 0.01 });
    const announced = plan.decide(http(429, { 'x-rate-limit-reset': String(NOW / 1000 + 42) }), {
      attempt: 1,
    });
    expect(announced).toMatchObject({ action: 'pause', delayMs: 42_000 }); // the server's time is never scaled down
    expect(crawlerPlan().decide(http(429), { attempt: 1 })).toMatchObject({
      action: 'pause',
      delayMs: RATE_LIMIT_PAUSE_MS,
    });
    expect(RATE_LIMIT_PAUSE_MS).toBe(900_000);
    expect(plan.decide(http(429), { attempt: 1 }).delayMs).toBe(9_000);
  });

  it('auth aborts, validation and 404 skip, resource aborts', () => {
    const plan = crawlerPlan();
    expect(plan.decide(http(401), { attempt: 1 }).action).toBe('abort');
    expect(plan.decide(http(404), { attempt: 1 }).action).toBe('skip');
    expect(plan.decide(http(422), { attempt: 1 }).action).toBe('skip');
    expect(
      plan.decide(classify(Object.assign(new Error('no space'), { code: 'ENOSPC' })), {
        attempt: 1,
      }).action,
    ).toBe('abort');
  });

  it('MAX_RETRIES and INITIAL_BACKOFF shape it; bad values are ConfigErrors naming the variable, without the password', () => {
    const settings = crawlerSettings({
      MAX_RETRIES: '3',
      INITIAL_BACKOFF: '0.5',
      VALKEY_URL: 'valkey://u:secret@127.0.0.1:6379/0',
      VALKEY_MAX_CONNECTIONS: '10',
    });
    expect(settings).toEqual({
      maxRetries: 3,
      initialBackoffMs: 500,
      valkeyUrl: 'redis://u:secret@127.0.0.1:6379/0',
      valkeyMaxConnections: 10,
    });
    const plan = crawlerPlan(settings);
    expect(
      [1, 2, 3, 4]
        .map((attempt) => plan.decide(reset, { attempt }))
        .map((d) => [d.action, d.delayMs]),
    ).toEqual([
      ['retry', 500],
      ['retry', 1_000],
      ['retry', 2_000],
      ['abort', 0],
    ]);
    expect(crawlerSettings({})).toEqual({
      maxRetries: 5,
      initialBackoffMs: 1_000,
      valkeyUrl: undefined,
      valkeyMaxConnections: 10,
    });
    expect(() => crawlerSettings({ MAX_RETRIES: 'five' })).toThrow(ConfigError);
    expect(() => crawlerSettings({ INITIAL_BACKOFF: '-1' })).toThrow(/INITIAL_BACKOFF/);
    expect(() => crawlerSettings({ VALKEY_MAX_CONNECTIONS: '0' })).toThrow(
      /VALKEY_MAX_CONNECTIONS/,
    );
    let message = '';
    try {
      crawlerSettings({ VALKEY_URL: 'http://u:secret@host' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/VALKEY_URL/);
    expect(message).not.toContain('secret');
  });
});
