import { describe, expect, it } from 'vitest';
import { sqliteAdapter } from './adapters.js';
import { runScenario } from './harness.js';

/**
 * The harness counts worker processes that end on their own (an unhandled error, an event loop
 * with nothing left to keep it alive) as crashes: staged here with a poison job that makes its
 * worker exit instead of being SIGKILLed. Real processes on a SQLite file.
 */
describe('the fault harness', () => {
  it('counts a worker process that exits on its own as a crash, and replaces it', async () => {
    const adapter = await sqliteAdapter();
    try {
      const report = await runScenario(adapter, {
        name: 'poison job that exits',
        jobs: 10,
        workers: 1,
        concurrency: 5,
        leaseMs: 1_000,
        workMs: 20,
        poison: 1,
        poisonExits: true,
        deadlineMs: 60_000,
        inject: async () => {},
      });
      // Each run of the poison job ended its worker (the default crash-loop limit: 3 strikes).
      expect(report.crashes).toBe(3);
      expect(report.dead).toBe(1);
      expect(report.completed).toBe(9);
      expect(report.lost).toBe(0);
    } finally {
      await adapter.close();
    }
  }, 90_000);
});
