import net from 'node:net';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, Worker } from '../../src/durable/index.js';
import { classify } from '../../src/faults/classify.js';
import { createRedisClient } from '../../src/stores/redis/connection.js';
import { RedisRateLimiter } from '../../src/stores/redis/rate-limiter.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { type OwnRedisServer, startRedisServer } from './redis-server.js';
import { uniquePrefix } from './shared-redis.js';
import { runCli } from '../cli/run-cli.js';

const USER = 'svc-user-q7';
const SECRET = 'Xy9-very-secret-pw-41';
/** Fail fast: the store must say what went wrong, not wait through long reconnects. */
const FAST = {
  connectTimeoutMs: 400,
  commandTimeoutMs: 400,
  maxReconnectDelayMs: 100,
  ioredis: { maxRetriesPerRequest: 1 },
};

/** Every serialization a user's logs might apply to a value, including each link of its cause chain. */
function serializations(value: unknown): string[] {
  const out: string[] = [];
  let log = '';
  const logger = pino(
    { serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err } },
    new Writable({
      write(chunk, _encoding, done) {
        log += chunk.toString();
        done();
      },
    }),
  );
  const seen = new Set<unknown>();
  let current: unknown = value;
  for (
    let depth = 0;
    depth < 8 && current !== undefined && current !== null && !seen.has(current);
    depth++
  ) {
    seen.add(current);
    out.push(String(current));
    out.push(
      inspect(current, { depth: Number.POSITIVE_INFINITY, showHidden: true, getters: true }),
    );
    out.push(JSON.stringify(current) ?? '');
    if (typeof current === 'object') {
      for (const key of Reflect.ownKeys(current)) {
        try {
          out.push(String((current as Record<PropertyKey, unknown>)[key]));
        } catch {}
      }
    }
    logger.error({ err: current }, 'store failed');
    logger.error({ error: current }, 'store failed');
    current = (current as { cause?: unknown }).cause;
  }
  out.push(log);
  return out;
}

function expectClean(label: string, value: unknown): void {
  for (const text of serializations(value)) {
    expect(text.includes(SECRET), `${label}: the password leaked in\n${text.slice(0, 2000)}`).toBe(
      false,
    );
    expect(text.includes(USER), `${label}: the user name leaked in\n${text.slice(0, 2000)}`).toBe(
      false,
    );
  }
}

/** A TCP listener that accepts connections and never answers: a host that drops traffic. */
async function blackHole(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Everything faultline hands out for a failing store: the rejection, health(), stats(), worker error events. */
async function everythingFrom(store: RedisStore): Promise<{ label: string; value: unknown }[]> {
  const queue = new Queue(store, uniquePrefix('cred'));
  const found: { label: string; value: unknown }[] = [];
  const enqueue = await queue.enqueue({ n: 1 }).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(enqueue, 'enqueue should have failed').toBeInstanceOf(Error);
  found.push({ label: 'enqueue rejection', value: enqueue });
  const health = await queue.health();
  expect(health.status).toBe('unhealthy');
  found.push({ label: 'health()', value: health });
  found.push({ label: 'health().error', value: (health as { error: unknown }).error });
  found.push({
    label: 'stats rejection',
    value: await queue.stats().catch((error: unknown) => error),
  });
  const worker = new Worker(queue, async () => {}, { pollMs: 50, keepAlive: false });
  const events: unknown[] = [];
  worker.events.on('error', (event) => events.push(event));
  worker.start();
  for (let i = 0; i < 200 && events.length === 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  await worker.stop({ deadlineMs: 500 });
  expect(events.length, 'the worker should report the failure').toBeGreaterThan(0);
  for (const [i, event] of events.entries())
    found.push({ label: `worker error event ${i}`, value: event });
  return found;
}

describe('no credential in anything faultline hands out, for every Redis failure mode', () => {
  let server: OwnRedisServer;
  beforeAll(async () => {
    server = await startRedisServer({ args: ['--requirepass', SECRET] });
  });
  afterAll(async () => {
    await server.stop();
  });

  const check = async (url: string, expectedMessage: RegExp) => {
    const store = new RedisStore({ url, connection: FAST });
    try {
      const found = await everythingFrom(store);
      expect(String((found[0]!.value as Error).message)).toMatch(expectedMessage);
      for (const { label, value } of found) expectClean(label, value);
      expectClean('the store', store);
    } finally {
      await store.close();
    }
  };

  it('wrong password: "authentication failed"', async () => {
    await check(`redis://${USER}:${SECRET}@127.0.0.1:${server.port}`, /authentication failed/);
  });

  it('no password on a server that wants one: "authentication failed" (NOAUTH)', async () => {
    await check(`redis://127.0.0.1:${server.port}`, /authentication failed.*NOAUTH/);
  });

  it('connection refused: names host and port', async () => {
    const refused = await blackHole();
    const port = refused.port;
    await refused.close(); // nothing listens there any more
    await check(
      `redis://${USER}:${SECRET}@127.0.0.1:${port}`,
      new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}`),
    );
  });

  it('a host that drops traffic: "did not answer in time"', async () => {
    const hole = await blackHole();
    try {
      await check(
        `redis://${USER}:${SECRET}@127.0.0.1:${hole.port}`,
        /did not answer in time|connection/,
      );
    } finally {
      await hole.close();
    }
  });

  it('server killed while in use', async () => {
    const own = await startRedisServer({ args: ['--requirepass', SECRET] });
    const store = new RedisStore({
      url: `redis://default:${SECRET}@127.0.0.1:${own.port}`,
      connection: FAST,
    });
    try {
      const queue = new Queue(store, uniquePrefix('killed'));
      await queue.enqueue({ n: 1 });
      await own.kill();
      const found = await everythingFrom(store);
      expect(String((found[0]!.value as Error).message)).toMatch(/refused|connection/i);
      for (const { label, value } of found) expectClean(label, value);
    } finally {
      await store.close();
      await own.stop();
    }
  });

  it('the shared rate limiter on a client with a wrong password: its error and unreachable event are clean', async () => {
    const client = createRedisClient(`redis://${USER}:${SECRET}@127.0.0.1:${server.port}`, FAST);
    try {
      const limiter = new RedisRateLimiter({ redis: client, name: uniquePrefix('rl'), rate: 10 });
      const events: unknown[] = [];
      limiter.events.on('unreachable', (event) => events.push(event));
      const error = await limiter.execute(() => 'ran').catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/authentication failed/);
      expect(events).toHaveLength(1);
      expectClean('rate limiter rejection', error);
      expectClean('rate limiter unreachable event', events[0]);
    } finally {
      client.disconnect();
    }
  });

  it('a dropped connection is transient: network, retryable', async () => {
    const own = await startRedisServer();
    const store = new RedisStore({ url: own.url, connection: FAST });
    try {
      await store.ping();
      await own.kill();
      const error = await store.ping().catch((e: unknown) => e);
      expect(classify(error)).toMatchObject({ category: 'network', retryable: true });
      expect((error as Error).name).toBe('StoreConnectionError');
    } finally {
      await store.close();
      await own.stop();
    }
  });

  it('a bad URL (port out of range): ConfigError without the password, no Node ERR_INVALID_URL input', () => {
    let error: unknown;
    try {
      new RedisStore({ url: `redis://${USER}:${SECRET}@127.0.0.1:99999` });
    } catch (e) {
      error = e;
    }
    expect((error as Error).name).toBe('ConfigError');
    expect((error as { option?: string }).option).toBe('url');
    expectClean('bad URL', error);
  });
});

describe('the CLI never prints a credential, and says what went wrong', () => {
  let server: OwnRedisServer;
  beforeAll(async () => {
    server = await startRedisServer({ args: ['--requirepass', SECRET] });
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each([
    [
      'wrong password',
      (port: number) => `redis://${USER}:${SECRET}@127.0.0.1:${port}/0`,
      /Cannot use the Redis store .*authentication failed/,
    ],
    ['no password', (port: number) => `redis://127.0.0.1:${port}`, /authentication failed.*NOAUTH/],
    [
      'refused',
      () => `redis://${USER}:${SECRET}@127.0.0.1:1/0`,
      /Cannot reach the Redis store .*connection refused by 127\.0\.0\.1:1/,
    ],
    [
      'bad port',
      () => `redis://${USER}:${SECRET}@127.0.0.1:99999/0`,
      /not a valid URL.*port from 1 to 65535/,
    ],
    [
      'missing database',
      (port: number) => `redis://default:${SECRET}@127.0.0.1:${port}/99`,
      /database 99 does not exist/,
    ],
  ])('%s', async (_label, url, expected) => {
    for (const args of [['stats'], ['dead', 'list', '--json']]) {
      const result = await runCli([...args, '--store', url(server.port)]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(expected);
      for (const text of [result.stdout, result.stderr]) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(USER);
      }
    }
  });
});
