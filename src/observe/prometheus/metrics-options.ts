import type { Registry } from 'prom-client';
import type { Clock } from '../../time/clock.js';

/** Options of `new FaultlineMetrics(options)`; all optional. */
export interface FaultlineMetricsOptions {
  /**
   * Where metrics are registered.
   * @defaultValue a new Registry
   */
  readonly registry?: Registry;
  /**
   * Prefix of every metric name.
   * @defaultValue `faultline_`
   */
  readonly prefix?: string;
  /**
   * Timer source for queue-size refreshes.
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
  /**
   * Histogram buckets of job durations, in seconds.
   * @defaultValue 0.005 s to 300 s in 14 steps
   */
  readonly durationBuckets?: readonly number[];
}
