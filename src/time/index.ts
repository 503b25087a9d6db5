export type { CancelTimer, Clock, TimerOptions } from './clock.js';
export { systemClock } from './system-clock.js';
