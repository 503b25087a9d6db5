import { MemoryStore } from '../../src/stores/memory/index.js';
import { describeStoreConformance } from './conformance.js';

describeStoreConformance('memory', () => new MemoryStore());
