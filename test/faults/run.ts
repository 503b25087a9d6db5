/**
 * Runs one scenario of the fault matrix on one store and prints its report:
 *   npx tsx test/faults/run.ts <store> "<scenario name>"
 */
import { ADAPTERS } from './adapters.js';
import { runScenario } from './harness.js';
import { MATRIX } from './scenarios.js';

const [store, name] = process.argv.slice(2);
const entry = MATRIX.find((e) => e.scenario.name === name);
const factory = store === undefined ? undefined : ADAPTERS[store];
if (!entry || !factory) {
  console.error(
    `usage: run.ts <${Object.keys(ADAPTERS).join('|')}> "<${MATRIX.map((e) => e.scenario.name).join('|')}>"`,
  );
  process.exit(2);
}
const adapter = await factory();
try {
  console.log(JSON.stringify(await runScenario(adapter, entry.scenario), null, 2));
} finally {
  await adapter.close();
}
