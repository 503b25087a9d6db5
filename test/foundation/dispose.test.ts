import { describe, expect, it } from 'vitest';
import { asyncDispose } from '../../src/dispose/async-dispose.js';
import { FaultlineMetrics, serveMetrics } from '../../src/observe/prometheus/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import { tempDir } from '../durable/temp-dir.js';

describe('disposal: close() and await using', () => {
  it('is the well-known symbol where Node has it, else the one Node 20 uses', () => {
    expect(asyncDispose).toBe(Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose'));
  });

  it('closes stores, metrics and the metrics server', async () => {
    const tmp = tempDir('faultline-dispose-');
    const sqlite = new SqliteStore(tmp.path('d.db'));
    const memory = new MemoryStore();
    const metrics = new FaultlineMetrics();
    const server = await serveMetrics(metrics);
    for (const resource of [sqlite, memory, server, metrics]) await resource[asyncDispose]();
    await expect(sqlite.stats('q', 0)).rejects.toThrow(/closed/);
    await expect(memory.stats('q', 0)).rejects.toThrow(/closed/);
    await expect(fetch(server.url)).rejects.toThrow();
    tmp.cleanup();
  });
});
