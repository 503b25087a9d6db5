export { MemoryStore } from './memory/index.js';
