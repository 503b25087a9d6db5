export { Events } from './events.js';
export type { Emitter, EventHub, Listener } from './events.js';
export { decisionLine, logDecisions } from './log/logger.js';
export type {
  DecisionEventName,
  EventSource,
  DecisionLevel,
  LoggedEventName,
  LogDecisionsOptions,
  LoggerLike,
  LogMethod,
} from './log/logger.js';
