import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import type { DurableStore } from '../../src/durable/store.js';
import { traceQueue } from '../../src/observe/otel/index.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import { tempDir } from '../durable/temp-dir.js';
import {
  connectShared,
  deletePrefix,
  SHARED_REDIS_URL,
  uniquePrefix,
} from '../redis/shared-redis.js';
import { memoryTracing, registerGlobals } from './otel-harness.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'otel-child.ts');
const temp = tempDir('faultline-otel-');

interface ChildSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  events: { name: string; attributes?: Record<string, unknown> }[];
}

beforeAll(registerGlobals);
afterAll(() => temp.cleanup());

/** Runs the worker process to its end; returns the spans and metrics it wrote. */
async function runChild(args: string[]): Promise<{
  spans: ChildSpan[];
  metrics: { attributes: Record<string, string>; value: number }[];
}> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(err === '' || code === 0 ? code : `${code}: ${err}`).toBe(0);
  const lines = out.split('\n');
  return {
    spans: lines
      .filter((l) => l.startsWith('SPAN '))
      .map((l) => JSON.parse(l.slice(5)) as ChildSpan),
    metrics: JSON.parse(lines.find((l) => l.startsWith('METRICS '))!.slice(8)),
  };
}

/**
 * A real HTTP server whose request handler enqueues the order jobs inside its SERVER span, and
 * a real client request that carries its CLIENT span's context in a `traceparent` header.
 */
async function enqueueThroughHttp(store: DurableStore) {
  const { tracer, spans } = memoryTracing();
  const queue = new Queue<{ kind: string }>(store, 'orders');
  traceQueue(queue, { tracer });
  const server = createServer((req: IncomingMessage, res) => {
    const parent = propagation.extract(context.active(), req.headers);
    void tracer.startActiveSpan('POST /orders', { kind: SpanKind.SERVER }, parent, async (span) => {
      await queue.enqueue({ kind: 'flaky' });
      await queue.enqueue({ kind: 'limited' });
      await queue.enqueue({ kind: 'doomed' }, { maxAttempts: 2 });
      span.end();
      res.end('queued');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const client = tracer.startSpan('POST orders', { kind: SpanKind.CLIENT });
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), client), headers);
  const body = await new Promise<string>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: '/orders', method: 'POST', headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end();
  });
  client.end();
  server.close();
  expect(body).toBe('queued');
  return { client, spans: spans() };
}

function checkTrace(
  parent: Awaited<ReturnType<typeof enqueueThroughHttp>>,
  child: Awaited<ReturnType<typeof runChild>>,
) {
  const traceId = parent.client.spanContext().traceId;
  const server = parent.spans.find((s) => s.name === 'POST /orders')!;
  const sends = parent.spans.filter((s) => s.name === 'send orders');
  expect(server.spanContext().traceId).toBe(traceId);
  expect(sends).toHaveLength(3);
  for (const send of sends)
    expect(send.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
  const sendIds = new Set(sends.map((s) => s.spanContext().spanId));

  const processes = child.spans.filter((s) => s.name === 'process orders');
  // flaky: fail + complete; limited: pause + complete; doomed: retry + dead letter.
  expect(processes).toHaveLength(6);
  for (const span of processes) {
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.links).toHaveLength(1);
    expect(span.links[0]!.traceId).toBe(traceId);
    expect(sendIds.has(span.links[0]!.spanId)).toBe(true);
    expect(span.attributes).toMatchObject({
      'messaging.system': 'faultline',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'orders',
    });
  }
  // The handler's own span nests in its run.
  const charges = child.spans.filter((s) => s.name === 'charge card');
  expect(charges.map((c) => c.parentSpanId).sort()).toEqual(processes.map((p) => p.spanId).sort());

  const events = processes.flatMap((p) =>
    p.events.filter((e) => e.name !== 'exception').map((e) => ({ ...e, span: p })),
  );
  const retry = events.find(
    (e) => e.name === 'faultline.retry' && e.attributes?.['faultline.fault.category'] === 'network',
  )!;
  expect(retry.attributes).toMatchObject({
    'faultline.decision.action': 'retry',
    'faultline.decision.delay_ms': 50,
    'faultline.job.attempt': 1,
  });
  expect(retry.span.status.code).toBe(SpanStatusCode.ERROR);
  expect(retry.span.attributes['error.type']).toBe('network');
  expect(
    retry.span.events.some(
      (e) => e.name === 'exception' && e.attributes?.['exception.message'] === 'read ECONNRESET',
    ),
  ).toBe(true);
  const pause = events.find((e) => e.name === 'faultline.pause')!;
  expect(pause.attributes).toMatchObject({
    'faultline.decision.action': 'pause',
    'faultline.decision.delay_ms': 1_000,
    'faultline.fault.category': 'rate_limit',
  });
  const dead = events.find((e) => e.name === 'faultline.dead_letter')!;
  expect(dead.attributes).toMatchObject({
    'faultline.decision.action': 'dead_letter',
    'faultline.fault.category': 'unavailable',
    'faultline.job.attempt': 2,
  });
  expect(dead.span.status.code).toBe(SpanStatusCode.ERROR);

  const jobs = Object.fromEntries(child.metrics.map((m) => [m.attributes.outcome, m.value]));
  expect(jobs).toEqual({ completed: 2, retried: 2, dead: 1 });
}

describe('a job enqueued in an HTTP request is traced by a worker in another process', () => {
  it('SQLite store', async () => {
    const file = temp.path('orders.db');
    const store = new SqliteStore(file);
    const parent = await enqueueThroughHttp(store);
    await store.close();
    checkTrace(parent, await runChild(['sqlite', file]));
  });

  it('Redis store', async () => {
    const prefix = uniquePrefix('otel');
    const admin = await connectShared();
    const store = new RedisStore({ url: SHARED_REDIS_URL, prefix });
    try {
      const parent = await enqueueThroughHttp(store);
      checkTrace(parent, await runChild(['redis', SHARED_REDIS_URL, prefix]));
    } finally {
      await store.close();
      await deletePrefix(admin, prefix);
      admin.disconnect();
    }
  });
});
