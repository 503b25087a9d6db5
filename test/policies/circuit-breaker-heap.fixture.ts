// Run by circuit-breaker-memory.test.ts in its own process: node --expose-gc --import tsx <this file>.
// Prints the heap bytes per idle consecutive-failure breaker, measured over 10,000 instances.
import { circuitBreaker } from '../../src/policies/circuit-breaker.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const count = 10_000;
const kept: unknown[] = new Array(count).fill(null);
gc();
gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < count; i++)
  kept[i] = circuitBreaker({
    trigger: { kind: 'consecutive', failures: 5 },
    halfOpenAfter: 30_000,
  });
gc();
gc();
const after = process.memoryUsage().heapUsed;
process.stdout.write(
  `${JSON.stringify({ bytesPerBreaker: (after - before) / count, kept: kept.length })}\n`,
);
