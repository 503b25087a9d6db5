/**
 * Checkpoint observability: every save is an event, the logger adapter writes one line per save
 * and the Prometheus adapter counts saves by trigger (the systems log each checkpoint save and
 * watch checkpoint frequency).
 */
import { describe, expect, it } from 'vitest';
import { type CheckpointSavedEvent, checkpointer } from '../../src/durable/index.js';
import { logDecisions } from '../../src/observe/log/logger.js';
import { FaultlineMetrics } from '../../src/observe/prometheus/index.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { VirtualClock } from '../../src/testing/index.js';

describe('checkpoint observability', () => {
  it('the checkpointer emits checkpointSaved for every save, with its trigger and size', async () => {
    const clock = new VirtualClock();
    const cp = checkpointer<{ cursor: number }>(new MemoryStore(), 'crawl', {
      everyItems: 10,
      everyMs: 60_000,
      clock,
    });
    const saved: CheckpointSavedEvent[] = [];
    cp.events.on('checkpointSaved', (e) => saved.push(e));
    for (let i = 1; i <= 25; i++) await cp.record({ cursor: i });
    await cp.flush();
    expect(saved.map((e) => [e.trigger, e.items])).toEqual([
      ['due', 10],
      ['due', 10],
      ['flush', 5],
    ]);
    expect(saved[0]).toMatchObject({ key: 'crawl', bytes: '{"cursor":10}'.length });
  });

  it('a failed write emits checkpointFailed and rejects', async () => {
    const store = new MemoryStore();
    store.putCheckpoint = () => Promise.reject(new Error('disk full'));
    const cp = checkpointer(store, 'k', { everyItems: 1 });
    const failed: unknown[] = [];
    cp.events.on('checkpointFailed', (e) => failed.push(e.error));
    await expect(cp.record({ a: 1 })).rejects.toThrow('disk full');
    expect(failed).toHaveLength(1);
  });

  it('the logger writes one info line per save', async () => {
    const cp = checkpointer(new MemoryStore(), 'upload:movie.mp4', { everyItems: 2 });
    const lines: { level: string; fields: Record<string, unknown>; message?: string }[] = [];
    const log = (level: string) => (fields: Record<string, unknown>, message?: string) =>
      lines.push({ level, fields, message });
    logDecisions(
      cp,
      { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
      { component: 'uploader' },
    );
    await cp.record({ parts: [1] });
    await cp.record({ parts: [1, 2] });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      fields: {
        decision: 'checkpoint_saved',
        key: 'upload:movie.mp4',
        items: 2,
        trigger: 'due',
        component: 'uploader',
      },
    });
  });

  it('Prometheus counts saves by trigger and keeps the last save time', async () => {
    const clock = new VirtualClock({ wallStart: 1_700_000_000_000 });
    const metrics = new FaultlineMetrics({ clock });
    const cp = checkpointer(new MemoryStore(), 'crawl', { everyItems: 2, clock });
    metrics.observeCheckpoints(cp, 'crawl');
    for (let i = 0; i < 4; i++) await cp.record({ i });
    await cp.record({ i: 5 });
    await cp.flush();
    const text = await metrics.metrics();
    expect(text).toContain('faultline_checkpoint_saves_total{checkpoint="crawl",trigger="due"} 2');
    expect(text).toContain(
      'faultline_checkpoint_saves_total{checkpoint="crawl",trigger="flush"} 1',
    );
    expect(text).toMatch(
      /faultline_checkpoint_last_save_timestamp_seconds\{checkpoint="crawl"\} 1700000000/,
    );
    metrics.close();
  });
});
