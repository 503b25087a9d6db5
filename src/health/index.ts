export type {
  CheckResultEvent,
  FlappingEvent,
  FlappingOptions,
  HealthMode,
  HealthMonitorEvents,
  HealthMonitorOptions,
  HealthMonitorStats,
  ModeChangeEvent,
} from './health-monitor.js';
export { DEFAULT_HEALTH_INTERVAL_MS, HealthMonitor, healthMonitor } from './health-monitor.js';
export type {
  PollCheck,
  PollCheckContext,
  Poller,
  PollOptions,
  PollResult,
  PollResultBase,
} from './poll.js';
export { PollStoppedError, poll } from './poll.js';
export type {
  LoadedEvent,
  LoadReason,
  RefreshableEvents,
  RefreshableLoad,
  RefreshableLoadContext,
  RefreshableOptions,
  RefreshableStats,
  RefreshFailedEvent,
  StaleServedEvent,
  ValidRefreshableOptions,
} from './refreshable.js';
export { Refreshable, refreshable } from './refreshable.js';
export type {
  RefreshableMapEvents,
  RefreshableMapLoad,
  RefreshableMapLoadContext,
  RefreshableMapOptions,
  RefreshableMapStats,
} from './refreshable-map.js';
export { RefreshableMap, refreshableMap } from './refreshable-map.js';
