export { Events } from './events.js';
export type { Listener } from './events.js';
