import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCircuitBreaker } from '../../src/stores/redis/shared-circuit-breaker.js';
import { RedisRateLimiter } from '../../src/stores/redis/rate-limiter.js';
import { RedisRetryBudget } from '../../src/stores/redis/retry-budget.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { type OwnRedisServer, startRedisServer } from './redis-server.js';
import { keySlot } from './shared-redis.js';

/**
 * Redis Cluster runs a script only when every key it touches is in one slot. Watch the server
 * (MONITOR) while every script runs, and check each script execution against the cluster's
 * slot function: the keys it declared and the keys its commands actually touched.
 */

// Commands the scripts use, and where their keys are: 'first' argument, or 'all' arguments.
const KEY_POSITIONS: Record<string, 'first' | 'all' | 'none'> = {
  hset: 'first',
  hget: 'first',
  hmget: 'first',
  hdel: 'first',
  hincrby: 'first',
  hgetall: 'first',
  hexists: 'first',
  hlen: 'first',
  zadd: 'first',
  zrem: 'first',
  zrange: 'first',
  zrangebyscore: 'first',
  zcard: 'first',
  zcount: 'first',
  zpopmin: 'first',
  get: 'first',
  set: 'first',
  pexpire: 'first',
  pexpireat: 'first',
  del: 'all',
  time: 'none',
  publish: 'none',
};

describe('every script touches one cluster slot', () => {
  let server: OwnRedisServer;
  let monitor: net.Socket;
  const lineListeners = new Set<(args: string[], source: string) => void>();
  const executions: { script: string; keys: string[] }[] = [];
  let current: { script: string; keys: string[] } | undefined;
  const unknownCommands = new Set<string>();

  const onLine = (args: string[], source: string) => {
    const command = (args[0] ?? '').toLowerCase();
    if (source === 'lua') {
      if (!current) return;
      const where = KEY_POSITIONS[command];
      if (where === undefined) unknownCommands.add(command);
      else if (where === 'first') current.keys.push(args[1]!);
      else if (where === 'all') current.keys.push(...args.slice(1));
      return;
    }
    if (command === 'evalsha' || command === 'eval') {
      const numKeys = Number(args[2]);
      current = { script: args[1]!.slice(0, 8), keys: args.slice(3, 3 + numKeys) };
      executions.push(current);
    } else current = undefined;
  };

  beforeAll(async () => {
    server = await startRedisServer();
    // MONITOR on a raw socket: every command the server runs, scripts' inner commands included.
    monitor = net.connect(server.port, '127.0.0.1');
    let buffer = '';
    let started: () => void = () => {};
    const ok = new Promise<void>((resolve) => (started = resolve));
    monitor.setEncoding('latin1');
    monitor.on('data', (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf('\r\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 2);
        newline = buffer.indexOf('\r\n');
        if (line === '+OK') started();
        const parsed = parseMonitorLine(line);
        if (parsed)
          for (const listener of [onLine, ...lineListeners]) listener(parsed.args, parsed.source);
      }
    });
    monitor.write('MONITOR\r\n');
    await ok;
  });
  afterAll(async () => {
    monitor.destroy();
    await server.stop();
  });

  it('holds for the store, the breaker, the limiter and the budget, with awkward queue names', async () => {
    const client = new Redis(server.url);
    for (const queue of ['plain', 'with space', '{braces}', 'colon:name', 'ünïcødé ✓']) {
      const store = new RedisStore({ client, prefix: 'app{x}' });
      const now = Date.now();
      const [a, b, c] = await store.enqueue(
        [
          { queue, payload: '1', priority: 1, runAt: now, idempotencyKey: 'k' },
          { queue, payload: '2', priority: 0, runAt: now + 10 },
          { queue, payload: '3', priority: 0, runAt: now },
        ],
        now,
      );
      const claimed = await store.claim({
        queue,
        workerId: 'w',
        limit: 10,
        leaseMs: 5,
        now: now + 20,
        maxStrikes: 3,
      });
      expect(claimed.map((j) => j.id)).toEqual([a!.id, c!.id, b!.id]);
      await store.renew([claimed[0]!], 5, now + 20);
      await store.saveJobCheckpoint(claimed[0]!, '{"at":1}', now + 20);
      const record = {
        attempt: 1,
        workerId: 'w',
        startedAt: now,
        durationMs: 1,
        outcome: 'dead' as const,
      };
      await store.settle(
        [
          { kind: 'complete', ...claimed[0]! },
          {
            kind: 'dead',
            ...claimed[1]!,
            fault: { category: 'permanent', message: 'x', suggestions: [] },
            record,
          },
        ],
        now + 21,
      );
      // The third job's lease expires: the next claim takes it over (lease_lost path).
      await store.claim({
        queue,
        workerId: 'w2',
        limit: 10,
        leaseMs: 1000,
        now: now + 100,
        maxStrikes: 3,
      });
      await store.pause(queue, now + 1000, now + 100);
      await store.stats(queue, now + 100);
      await store.resume(queue);
      await store.requeueDead({ ids: [claimed[1]!.id] }, { now: now + 200 });
      await store.prune(
        { completed: { maxAgeMs: 0, maxCount: 0 }, dead: { maxAgeMs: 0, maxCount: 0 } },
        now + 300,
      );
      await store.purgeDead({});
    }
    const breaker = new RedisCircuitBreaker({
      redis: client,
      name: 'b{1}',
      prefix: 'app',
      breaker: { trigger: { kind: 'consecutive', failures: 1 }, halfOpenAfter: 0 },
    });
    await breaker.ready();
    await breaker
      .execute(() => Promise.reject(Object.assign(new Error('down'), { code: 'ECONNRESET' })))
      .catch(() => undefined);
    await breaker.execute(() => 'probe');
    await breaker.close();
    const limiter = new RedisRateLimiter({ redis: client, name: 'r:1', prefix: 'app', rate: 10 });
    await limiter.tryTake();
    const budget = new RedisRetryBudget({ redis: client, name: 'budget', prefix: 'app' });
    await budget.recordRequest();
    await budget.tryRetry();

    // MONITOR lines arrive asynchronously: a final marker command tells us all have been seen.
    const marker = new Promise<void>((resolve) =>
      lineListeners.add((args) => args[1] === 'slot-test-marker' && resolve()),
    );
    await client.get('slot-test-marker');
    await marker;
    client.disconnect();

    expect(unknownCommands).toEqual(new Set());
    console.log(
      `slot check: ${executions.length} script runs, ${executions.reduce((n, e) => n + e.keys.length, 0)} key accesses`,
    );
    expect(executions.length).toBeGreaterThan(60);
    for (const execution of executions) {
      const slots = new Set(execution.keys.map(keySlot));
      if (slots.size > 1)
        throw new Error(
          `script ${execution.script} touched keys in ${slots.size} slots: ${execution.keys.join(', ')}`,
        );
    }
  });
});

/** `+1700000000.123 [0 lua] "HSET" "key" ...` -> args (bytes decoded as UTF-8) and source. */
function parseMonitorLine(line: string): { args: string[]; source: string } | undefined {
  const match = /^\+[0-9.]+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
  if (!match) return undefined;
  const args: string[] = [];
  for (const quoted of match[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    const latin1 = quoted[1]!.replace(/\\(x[0-9a-f]{2}|.)/g, (_m, esc: string) => {
      if (esc.startsWith('x') && esc.length === 3)
        return String.fromCharCode(Number.parseInt(esc.slice(1), 16));
      return esc === 'n' ? '\n' : esc === 'r' ? '\r' : esc === 't' ? '\t' : esc;
    });
    args.push(Buffer.from(latin1, 'latin1').toString('utf8'));
  }
  return { args, source: match[1]! };
}
