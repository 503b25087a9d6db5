import { describe, expect, it } from 'vitest';
import { RunsInFlight } from '../../src/durable/worker-inflight.js';
import { deferred } from '../deferred.js';

describe('RunsInFlight', () => {
  it('is settled at once with no run in flight', async () => {
    await expect(new RunsInFlight().settled()).resolves.toBeUndefined();
  });

  it('settles when the last run ends, failed runs included', async () => {
    const runs = new RunsInFlight();
    const a = deferred();
    const b = deferred();
    runs.add(a.promise);
    runs.add(b.promise);
    let settled = false;
    void runs.settled().then(() => (settled = true));
    a.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(false);
    expect(runs.size).toBe(1);
    b.reject(new Error('handler failed'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(true);
    expect(runs.size).toBe(0);
  });
});
