import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokenCircuitError, ConfigError } from '../../src/faults/errors.js';
import { RedisCircuitBreaker } from '../../src/stores/redis/shared-circuit-breaker.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { connectShared, deletePrefix, SHARED_REDIS_URL, uniquePrefix } from './shared-redis.js';

const CHILD = path.join(import.meta.dirname, 'breaker-child.ts');

type ChildMessage =
  | { type: 'ready' | 'failed' }
  | { type: 'state'; to: string; at: number; remote: boolean }
  | { type: 'done'; probes: { start: number; end: number; ok: boolean }[]; state: string };

interface Proc {
  readonly child: ChildProcess;
  readonly states: { to: string; at: number; remote: boolean }[];
  next(type: ChildMessage['type']): Promise<ChildMessage>;
}

function start(prefix: string, name: string): Proc {
  const child = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, REDIS_URL: SHARED_REDIS_URL, PREFIX: prefix, NAME: name },
  });
  const states: Proc['states'] = [];
  const waiting = new Map<string, (m: ChildMessage) => void>();
  const inbox: ChildMessage[] = [];
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'state') states.push(m);
    const resolve = waiting.get(m.type);
    if (resolve) {
      waiting.delete(m.type);
      resolve(m);
    } else inbox.push(m);
  });
  return {
    child,
    states,
    next: (type) => {
      const index = inbox.findIndex((m) => m.type === type);
      if (index >= 0) return Promise.resolve(inbox.splice(index, 1)[0]!);
      return new Promise((resolve) => waiting.set(type, resolve));
    },
  };
}

/** Waits for a state change in a child process (the event, not a sleep; the test timeout bounds it). */
async function nextState(
  proc: Proc,
  to: string,
  after: number,
): Promise<{ at: number; remote: boolean }> {
  for (;;) {
    const found = proc.states.find((s) => s.to === to && s.at >= after);
    if (found) return found;
    await new Promise<void>((resolve) => proc.child.once('message', () => resolve()));
  }
}

describe('RedisCircuitBreaker across processes', () => {
  let client: Redis;
  const prefix = uniquePrefix('cb');
  const procs: Proc[] = [];
  beforeAll(async () => {
    client = await connectShared();
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await deletePrefix(client, prefix);
    client.disconnect();
  });

  it('3 processes: failures in one open all within 100 ms; one half-open probe at a time; a good probe closes all', async () => {
    for (let i = 0; i < 3; i++) procs.push(start(prefix, 'upstream'));
    await Promise.all(procs.map((p) => p.next('ready')));

    const before = Date.now();
    procs[0]!.child.send({ cmd: 'fail', n: 3 });
    const opened = await nextState(procs[0]!, 'open', before);
    expect(opened.remote).toBe(false);
    const others = await Promise.all([
      nextState(procs[1]!, 'open', before),
      nextState(procs[2]!, 'open', before),
    ]);
    for (const other of others) {
      expect(other.remote).toBe(true);
      expect(other.at - opened.at).toBeLessThan(100);
    }
    console.log(
      `shared breaker: open seen by the other processes after ${others.map((o) => o.at - opened.at).join(' ms, ')} ms`,
    );

    // All three call in a loop; the dependency stays down for 1.2 s more, then recovers.
    const failUntil = Date.now() + 1_200;
    for (const p of procs) p.child.send({ cmd: 'hammer', ms: 3_000, failUntil });
    const results = (await Promise.all(procs.map((p) => p.next('done')))) as Extract<
      ChildMessage,
      { type: 'done' }
    >[];
    const probes = results.flatMap((r) => r.probes).sort((a, b) => a.start - b.start);
    for (let i = 1; i < probes.length; i++) {
      if (probes[i]!.start < probes[i - 1]!.end)
        throw new Error(`two probes at once: ${JSON.stringify(probes)}`);
    }
    // At least one probe failed (reopening everywhere) and one succeeded (closing everywhere).
    expect(probes.some((p) => !p.ok)).toBe(true);
    expect(probes.some((p) => p.ok)).toBe(true);
    expect(results.map((r) => r.state)).toEqual(['closed', 'closed', 'closed']);
    for (const p of procs) p.child.send({ cmd: 'exit' });
  }, 60_000);

  it('validates options', () => {
    expect(() => new RedisCircuitBreaker({ redis: client, name: '' })).toThrow(ConfigError);
    expect(
      () =>
        new RedisCircuitBreaker({ redis: client, name: 'x', whenUnreachable: 'open' as 'local' }),
    ).toThrow(ConfigError);
    expect(() => new RedisCircuitBreaker({ redis: client, name: 'x', probeLockMs: 0 })).toThrow(
      ConfigError,
    );
  });

  it('refuses a bad call at the door, before touching Redis', async () => {
    const breaker = new RedisCircuitBreaker({ redis: client, name: 'door', prefix });
    await expect(breaker.execute(undefined as never)).rejects.toBeInstanceOf(ConfigError);
    const reason = new Error('the caller gave up');
    let calls = 0;
    await expect(
      breaker.execute(async () => ++calls, { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    expect(calls).toBe(0);
    expect(await breaker.execute(async () => ++calls)).toBe(1);
    await breaker.close();
  });

  it('when Redis is unreachable: falls back to the local breaker, or fails closed when told to', async () => {
    const { Redis: RedisClient } = await import('ioredis');
    const dead = () => {
      const c = new RedisClient({
        port: 1,
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      c.on('error', () => {});
      return c;
    };
    const clock = new VirtualClock();
    const localOnly = new RedisCircuitBreaker({
      redis: dead(),
      subscriber: dead(),
      name: 'dead',
      prefix,
      breaker: { trigger: { kind: 'consecutive', failures: 2 }, halfOpenAfter: 1_000, clock },
    });
    const unreachable: string[] = [];
    localOnly.events.on('unreachable', (e) => unreachable.push(e.during));
    expect(await localOnly.execute(() => 'ok')).toBe('ok');
    for (let i = 0; i < 2; i++)
      await localOnly
        .execute(() => Promise.reject(Object.assign(new Error('down'), { code: 'ECONNRESET' })))
        .catch(() => undefined);
    expect(localOnly.state).toBe('open');
    await expect(localOnly.execute(() => 'no')).rejects.toBeInstanceOf(BrokenCircuitError);
    await clock.advance(1_000);
    // Half-open: the probe lock cannot be taken, so the local breaker decides alone.
    expect(await localOnly.execute(() => 'probe')).toBe('probe');
    expect(localOnly.state).toBe('closed');
    expect(unreachable).toContain('probe');
    await localOnly.close();

    const failClosed = new RedisCircuitBreaker({
      redis: dead(),
      subscriber: dead(),
      name: 'dead2',
      prefix,
      whenUnreachable: 'reject',
    });
    await expect(failClosed.execute(() => 'no')).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(failClosed.stats().rejections).toBe(1);
    await failClosed.close();
  });
});
