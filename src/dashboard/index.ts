/**
 * `faultline/dashboard`: the operators' web dashboard as a Node request handler.
 * It has no runtime dependency; give it any DurableStore.
 */
export { checkBindAddress, isLoopback } from './bind.js';
export { createDashboard, type DashboardHandler } from './handler.js';
export type { DashboardAuth, DashboardOptions } from './options.js';
