import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/faults/errors.js';
import { RefreshableMap } from '../../src/health/refreshable-map.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

describe('refreshableMap', () => {
  it('one value per key, loaded once per key', async () => {
    const clock = new VirtualClock();
    const loads: string[] = [];
    const urls = new RefreshableMap(
      (track: string) => {
        loads.push(track);
        return `https://cdn/${track}?sig=${loads.length}`;
      },
      { ttlMs: 60_000, clock },
    );
    const got = await Promise.all([urls.get('a'), urls.get('b'), urls.get('a'), urls.get('b')]);
    expect(got).toEqual([
      'https://cdn/a?sig=1',
      'https://cdn/b?sig=2',
      'https://cdn/a?sig=1',
      'https://cdn/b?sig=2',
    ]);
    expect(loads).toEqual(['a', 'b']);
  });

  it('evicts the least recently used key beyond maxEntries', async () => {
    const clock = new VirtualClock();
    let loads = 0;
    const evicted: string[] = [];
    const map = new RefreshableMap((key: string) => `${key}${++loads}`, {
      ttlMs: 60_000,
      maxEntries: 2,
      clock,
    });
    map.events.on('evicted', (e) => evicted.push(e.key));
    await map.get('a');
    await map.get('b');
    await map.get('a'); // a is now the most recent
    await map.get('c'); // evicts b
    expect(evicted).toEqual(['b']);
    expect(map.has('a') && map.has('c') && !map.has('b')).toBe(true);
    expect(map.size).toBe(2);
    expect(await map.get('b')).toBe('b4');
    expect(evicted).toEqual(['b', 'a']);
    expect(map.stats()).toMatchObject({ size: 2, evictions: 2, loads: 4 });
  });

  it('invalidate(key) reloads only that key; events carry the key', async () => {
    const clock = new VirtualClock();
    let n = 0;
    let fail = false;
    const map = new RefreshableMap(
      (key: string) => {
        if (fail) throw new Error('down');
        return `${key}${++n}`;
      },
      { ttlMs: 60_000, staleIfErrorMs: 60_000, clock },
    );
    const stale: string[] = [];
    map.events.on('stale', (e) => stale.push(e.key));
    expect(await map.get('x')).toBe('x1');
    expect(await map.get('y')).toBe('y2');
    map.invalidate('x');
    expect(await map.get('x')).toBe('x3');
    expect(await map.get('y')).toBe('y2');
    map.invalidate('y');
    fail = true;
    expect(await map.get('y')).toBe('y2');
    expect(stale).toEqual(['y']);
    expect(map.delete('y')).toBe(true);
    await expect(map.get('y')).rejects.toThrow('down');
  });

  it('rejects bad options with ConfigError', () => {
    expect(() => new RefreshableMap(() => 1, { ttlMs: 1, maxEntries: 0 })).toThrow(ConfigError);
    expect(() => new RefreshableMap(() => 1, { maxEntries: 3 } as never)).toThrow(ConfigError);
  });
});
