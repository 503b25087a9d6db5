export type {
  CleanupOptions,
  CleanupReport,
  LifecycleEvents,
  LifecycleOptions,
  LifecycleState,
  ShutdownReport,
} from './lifecycle.js';
export { Lifecycle, lifecycle, ShutdownInProgressError } from './lifecycle.js';
export { EXIT_CLEAN, EXIT_FAILURE, exitCodeForSignal } from './exit-codes.js';
