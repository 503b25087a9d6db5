import { afterAll } from 'vitest';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import { describeStoreConformance } from './conformance.js';
import { tempDir } from './temp-dir.js';

const tmp = tempDir();
let n = 0;
afterAll(() => tmp.cleanup());

describeStoreConformance('sqlite', () => new SqliteStore(tmp.path(`store-${n++}.db`)));
