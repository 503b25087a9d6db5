export { Events } from './events.js';
export type { Listener } from './events.js';
export { decisionLine, logDecisions } from './logger.js';
export type { EventSource, LogDecisionsOptions, LoggerLike, LogMethod } from './logger.js';
