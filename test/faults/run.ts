/**
 * Runs one scenario of the fault matrix on one store and prints its report:
 *   npx tsx test/faults/run.ts <store> "<scenario name>"
 *   npx tsx test/faults/run.ts memory "<scenario name>" [seed]     (in-process, virtual time)
 */
import { ADAPTERS } from './adapters.js';
import { runScenario } from './harness.js';
import { runInProcess } from './in-process.js';
import { FULL_MATRIX as MATRIX } from './scenarios-postgres.js';
import { MEMORY_MATRIX } from './scenarios-memory.js';

const [store, name, seed] = process.argv.slice(2);
if (store === 'memory') {
  const scenario = MEMORY_MATRIX.find((s) => s.name === name);
  if (!scenario) {
    console.error(`usage: run.ts memory "<${MEMORY_MATRIX.map((s) => s.name).join('|')}>" [seed]`);
    process.exit(2);
  }
  const report = await runInProcess(scenario, seed === undefined ? undefined : Number(seed));
  console.log(JSON.stringify(report, null, 2));
  process.exit(0);
}
const entry = MATRIX.find((e) => e.scenario.name === name);
const factory = store === undefined ? undefined : ADAPTERS[store];
if (!entry || !factory) {
  console.error(
    `usage: run.ts <${Object.keys(ADAPTERS).join('|')}|memory> "<${MATRIX.map((e) => e.scenario.name).join('|')}>"`,
  );
  process.exit(2);
}
const adapter = await factory();
try {
  console.log(JSON.stringify(await runScenario(adapter, entry.scenario), null, 2));
} finally {
  await adapter.close();
}
// A command, done once it has printed: idle pool sockets and timers the drivers keep for a
// while (PostgreSQL's kept this process alive ~75 s) are not worth waiting for.
process.exit(0);
