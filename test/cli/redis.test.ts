import { describeCliSuite, redisBackend } from './cli-suite.js';

// Needs the Redis at 127.0.0.1:6379 (fails loudly when it is not running); a unique key prefix per run.
describeCliSuite('redis', redisBackend);
