import { describeCliSuite, sqliteBackend } from './cli-suite.js';

describeCliSuite('sqlite', async () => sqliteBackend());
