/** faultline/testing: tools to prove that recovery works. */
export { VirtualClock } from './virtual-clock.js';
export type { VirtualClockOptions } from './virtual-clock.js';
export { FlakyServer, flakyServer, times } from './flaky-server.js';
export type {
  FlakyRequest,
  FlakyRequestRecord,
  FlakyResponse,
  FlakyServerEvents,
  FlakyServerOptions,
  FlakyStep,
} from './flaky-server.js';
export { chaos, ChaosError, ChaosHttpError, ChaosPolicy } from './chaos.js';
export type { ChaosEvents, ChaosInjection, ChaosOptions, ChaosStats } from './chaos.js';
