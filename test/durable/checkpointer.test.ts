import { describe, expect, it, vi } from 'vitest';
import { checkpointer } from '../../src/durable/checkpointer.js';
import { ConfigError } from '../../src/faults/errors.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

describe('Checkpointer', () => {
  it('saves every N items, and loads the last durable state', async () => {
    const store = new MemoryStore();
    const put = vi.spyOn(store, 'putCheckpoint');
    const clock = new VirtualClock();
    const cp = checkpointer<{ cursor: number }>(store, 'crawl', {
      everyItems: 10,
      everyMs: 60_000,
      clock,
    });
    for (let i = 1; i <= 25; i++) await cp.record({ cursor: i });
    expect(put).toHaveBeenCalledTimes(2);
    expect(await cp.load()).toEqual({ cursor: 20 });
    await cp.flush();
    expect(await cp.load()).toEqual({ cursor: 25 });
    await cp.flush();
    expect(put).toHaveBeenCalledTimes(3);
    await cp.clear();
    expect(await cp.load()).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it('saves after everyMs even when items stop coming', async () => {
    const store = new MemoryStore();
    const clock = new VirtualClock();
    const cp = checkpointer(store, 'upload', { everyItems: 1_000, everyMs: 5_000, clock });
    await cp.record({ parts: [1] });
    await clock.advance(4_999);
    expect(await cp.load()).toBeUndefined();
    await clock.advance(1);
    expect(await cp.load()).toEqual({ parts: [1] });
    await cp.record({ parts: [1, 2] });
    await clock.advance(5_000);
    expect(await cp.load()).toEqual({ parts: [1, 2] });
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses non-JSON state and bad options with typed errors', async () => {
    const store = new MemoryStore();
    const cp = checkpointer(store, 'k');
    await expect(cp.record({ at: new Date() })).rejects.toThrow(/checkpoint\.at/);
    expect(() => checkpointer(store, '')).toThrow(ConfigError);
    expect(() => checkpointer(store, 'k', { everyItems: 0 })).toThrow(/everyItems/);
  });
});
