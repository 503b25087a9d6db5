import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Events, HealthMonitor, logDecisions } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/index.js';

/** A real pino logger writing JSON lines into an array. */
function capture(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const logger = pino(
    { level: 'debug', base: null, timestamp: false },
    { write: (line: string) => out.push(line) },
  );
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logDecisions', () => {
  it('writes one pino line per health decision, with the fault category', () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({
      name: 'status-api',
      failureThreshold: 2,
      stabilityThreshold: 1,
      clock,
      flapping: false,
    });
    const { logger, lines } = capture();
    const off = logDecisions(monitor, logger, { component: 'monitor' });
    monitor.recordFailure(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    );
    expect(lines()).toHaveLength(0);
    monitor.recordFailure(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    );
    monitor.recordSuccess();
    const logged = lines();
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({
      level: 40,
      decision: 'mode_change',
      category: 'network',
      code: 'ECONNREFUSED',
      from: 'healthy',
      to: 'failing',
      component: 'monitor',
    });
    expect(String(logged[0]?.msg)).toMatch(/consecutive failures/);
    expect(logged[1]).toMatchObject({ decision: 'mode_change', from: 'failing', to: 'healthy' });
    off();
    monitor.recordFailure(new Error('x'));
    monitor.recordFailure(new Error('x'));
    expect(lines()).toHaveLength(2);
  });

  it('maps retry and give-up events, with operation attributes, and honours level overrides', () => {
    const events = new Events<Record<string, unknown>>();
    const { logger, lines } = capture();
    logDecisions({ events }, logger, { levels: { rejected: 'off', retry: 'warn' } });
    const fault = {
      category: 'rate_limit',
      status: 429,
      message: 'Too Many Requests',
      retryable: true,
      suggestions: [],
    };
    events.emit('retry', {
      attempt: 1,
      delayMs: 2000,
      fault,
      reason: 'rate_limit (429): retry 2/5 in 2 s as the server asked',
      operation: { name: 'fetch_page', attributes: { url: '/items/7' } },
    });
    events.emit('giveUp', {
      reason: 'exhausted',
      attempts: 5,
      fault,
      message: 'Gave up after 5 attempts',
    });
    events.emit('rejected', { breaker: 'api', state: 'open' });
    events.emit('unrelated', { x: 1 });
    const logged = lines();
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({
      level: 40,
      decision: 'retry',
      category: 'rate_limit',
      status: 429,
      attempt: 1,
      delayMs: 2000,
      operation: 'fetch_page',
      url: '/items/7',
    });
    expect(logged[0]?.msg).toBe('rate_limit (429): retry 2/5 in 2 s as the server asked');
    expect(logged[1]).toMatchObject({
      level: 40,
      decision: 'give_up',
      category: 'rate_limit',
      reason: 'exhausted',
      attempts: 5,
      msg: 'Gave up after 5 attempts',
    });
  });

  it('accepts any pino-compatible object', () => {
    const calls: [string, Record<string, unknown>, string | undefined][] = [];
    const make = (level: string) => (fields: Record<string, unknown>, message?: string) =>
      calls.push([level, fields, message]);
    const events = new Events<Record<string, unknown>>();
    logDecisions(
      { events },
      { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') },
    );
    events.emit('giveUp', {
      jobId: 'j1',
      queue: 'crawl',
      reason: 'skip',
      message: 'validation: not retried',
      attempts: 1,
      fault: { category: 'validation', message: 'bad record' },
    });
    expect(calls).toEqual([
      [
        'warn',
        {
          decision: 'give_up',
          category: 'validation',
          attempts: 1,
          jobId: 'j1',
          queue: 'crawl',
          reason: 'skip',
          error: 'bad record',
        },
        'validation: not retried',
      ],
    ]);
  });
});
