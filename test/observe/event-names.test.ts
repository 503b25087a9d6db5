import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { Checkpointer } from '../../src/durable/checkpointer.js';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { Events } from '../../src/observe/events.js';
import { LOGGED_EVENTS, logDecisions } from '../../src/observe/log/logger.js';
import {
  FaultlineMetrics,
  type ObservedWorkerEvents,
} from '../../src/observe/prometheus/metrics.js';
import { FaultlineOtelMetrics } from '../../src/observe/otel/metrics.js';
import { Bulkhead } from '../../src/policies/bulkhead.js';
import { CircuitBreaker } from '../../src/policies/circuit-breaker.js';
import { RetryPolicy } from '../../src/policies/retry.js';
import { MemoryStore } from '../../src/stores/memory/memory-store.js';

const SRC = join(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The event maps of every emitter in src (each `Events<Map>`), read from the source with
 * the TypeScript parser: map name → the event names it declares.
 */
function declaredEventMaps(): Map<string, Set<string>> {
  const files = sourceFiles(SRC).map((path) =>
    ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true),
  );
  const emitted = new Set<string>();
  const visitNew = (node: ts.Node): void => {
    // `new Events<Map>()` and `Events<Map>` in a type (a getter that creates its hub lazily).
    const typeArguments =
      (ts.isNewExpression(node) || ts.isTypeReferenceNode(node)) &&
      (ts.isNewExpression(node) ? node.expression : node.typeName).getText() === 'Events'
        ? node.typeArguments
        : undefined;
    const arg = typeArguments?.length === 1 ? typeArguments[0] : undefined;
    if (arg !== undefined && ts.isTypeReferenceNode(arg)) emitted.add(arg.typeName.getText());
    ts.forEachChild(node, visitNew);
  };
  const maps = new Map<string, Set<string>>();
  for (const file of files) {
    visitNew(file);
    for (const statement of file.statements) {
      if (!ts.isInterfaceDeclaration(statement)) continue;
      const names = statement.members
        .filter(ts.isPropertySignature)
        .map((member) => member.name.getText());
      maps.set(statement.name.text, new Set(names));
    }
  }
  const result = new Map<string, Set<string>>();
  for (const name of emitted) {
    const events = maps.get(name);
    if (events !== undefined) result.set(name, events);
  }
  return result;
}

/** A stand-in emitter that records which event names an adapter subscribes to. */
function recordingSource(names: Set<string>) {
  return {
    state: 'closed',
    mode: 'healthy',
    unstable: false,
    stats: () => ({ active: 0, queued: 0 }),
    events: {
      on(type: string) {
        names.add(type);
        return () => undefined;
      },
    },
  };
}

describe('event names: every adapter subscribes only to events some emitter declares', () => {
  const maps = declaredEventMaps();
  const declared = new Set([...maps.values()].flatMap((events) => [...events]));

  it('finds the emitters of src and their event maps', () => {
    // The parser must see the maps the adapters rely on, or the checks below prove nothing.
    for (const name of ['WorkerEvents', 'QueueEvents', 'RetryEvents', 'CircuitBreakerEvents'])
      expect(maps.has(name), name).toBe(true);
    expect(maps.get('WorkerEvents')).toEqual(
      new Set([
        'claimed',
        'completed',
        'retry',
        'giveUp',
        'paused',
        'released',
        'leaseLost',
        'aborted',
        'error',
        'idle',
        'stopped',
      ]),
    );
  });

  it('the logger adapter', () => {
    const names = new Set<string>();
    logDecisions(recordingSource(names), {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    });
    expect([...names].sort()).toEqual([...LOGGED_EVENTS].sort());
    expect([...names].filter((name) => !declared.has(name))).toEqual([]);
  });

  it('the Prometheus adapter', () => {
    const names = new Set<string>();
    const metrics = new FaultlineMetrics();
    const source = recordingSource(names);
    metrics
      .observeRetry(source as never, 'r')
      .observeBreaker(source as never, 'b')
      .observeBulkhead(source as never, 'h')
      .observeWorker(source as never, 'q')
      .observeHealth(source as never, 'm')
      .observeCheckpoints(source as never, 'c');
    metrics.close();
    expect(names.size).toBeGreaterThan(10);
    expect([...names].filter((name) => !declared.has(name))).toEqual([]);
  });

  it('the OpenTelemetry metrics adapter', () => {
    const names = new Set<string>();
    const metrics = new FaultlineOtelMetrics();
    const source = recordingSource(names);
    metrics
      .observeRetry(source as never, 'r')
      .observeBreaker(source as never, 'b')
      .observeBulkhead(source as never, 'h')
      .observeWorker(source as never, 'q')
      .observeHealth(source as never, 'm');
    metrics.close();
    expect(names.size).toBeGreaterThan(8);
    expect([...names].filter((name) => !declared.has(name))).toEqual([]);
  });

  it('the old worker names are gone: retry, giveUp and paused.until as everywhere else', () => {
    expect(declared.has('retried')).toBe(false);
    expect(declared.has('deadLettered')).toBe(false);
    expect(maps.get('WorkerEvents')?.has('retry')).toBe(true);
    expect(maps.get('RetryEvents')?.has('giveUp')).toBe(true);
  });
});

describe('event names are types: a renamed event is a build error, not a silent gap', () => {
  it('the real emitters fit the adapters, and a map with a renamed event does not', () => {
    const store = new MemoryStore();
    const queue = new Queue(store, 'q');
    const worker = new Worker(queue, () => undefined);
    const metrics = new FaultlineMetrics();
    // Each of these compiles only because the emitter declares the events the adapter reads.
    metrics
      .observeWorker(worker, 'q')
      .observeRetry(new RetryPolicy(), 'r')
      .observeBreaker(new CircuitBreaker(), 'b')
      .observeBulkhead(new Bulkhead({ maxConcurrent: 1 }), 'h')
      .observeHealth(new HealthMonitor(), 'm')
      .observeCheckpoints(new Checkpointer(store, 'key'), 'c');

    // A worker whose event map still said `retried` (the old name) is refused by the compiler.
    type OldWorkerEvents = Omit<ObservedWorkerEvents, 'retry'> & {
      retried: ObservedWorkerEvents['retry'];
    };
    const oldWorker = { events: new Events<OldWorkerEvents>() };
    // @ts-expect-error -- `retry` is missing from the map: renaming an event breaks the build
    metrics.observeWorker(oldWorker, 'old');
    // @ts-expect-error -- a misspelled event name does not compile
    worker.events.on('retried', () => undefined);
    const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    // @ts-expect-error -- nor does one in the logger's level overrides
    const offLog = logDecisions(worker, quiet, { levels: { deadLettered: 'off' } });
    offLog();

    // At run time the adapter listens on the real worker under the real names, until closed.
    for (const name of ['completed', 'retry', 'giveUp', 'paused', 'leaseLost'] as const)
      expect(worker.events.has(name), name).toBe(true);
    metrics.close();
    expect(worker.events.has('retry')).toBe(false);
  });
});
