import type { FaultCategory } from '../faults/fault.js';
import type { PolicyStats } from './policy.js';

/**
 * Mutable counters behind a policy's `stats()`. Plain numeric fields: incrementing one is
 * as cheap as it gets on the hot path; `snapshot()` copies them out for readers.
 */
export class StatsCounter {
  executions = 0;
  successes = 0;
  failures = 0;
  rejections = 0;
  retries = 0;
  private byCategory: Partial<Record<FaultCategory, number>> = {};

  failure(category: FaultCategory): void {
    this.failures++;
    this.byCategory[category] = (this.byCategory[category] ?? 0) + 1;
  }

  snapshot(): PolicyStats {
    return {
      executions: this.executions,
      successes: this.successes,
      failures: this.failures,
      failuresByCategory: { ...this.byCategory },
      rejections: this.rejections,
      retries: this.retries,
    };
  }
}
