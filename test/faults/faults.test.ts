import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADAPTERS } from './adapters.js';
import { expectVerdict } from './expect-verdict.js';
import { runScenario, type ScenarioReport } from './harness.js';
import { runInProcess } from './in-process.js';
import { FULL_MATRIX as MATRIX } from './scenarios-postgres.js';
import { MEMORY_MATRIX } from './scenarios-memory.js';

/**
 * The fault matrix (issue 17): real worker processes, one injected fault per scenario, the
 * same invariants checked from the handlers' fsync'd ledger after each. The short form runs in
 * `npx vitest run`; the long form runs every scenario on every store 5 times:
 *
 *   FAULTLINE_FAULTS=long npx vitest run test/faults      (npm run test:faults)
 *
 * and writes the counts to FAULTLINE_FAULTS_REPORT (a JSON file) when that is set.
 */

const LONG = process.env.FAULTLINE_FAULTS === 'long';
const ROUNDS = LONG ? 5 : 1;
const reports: ScenarioReport[] = [];

const compact = (report: ScenarioReport) =>
  JSON.stringify(report, (_k, v) =>
    Array.isArray(v) && v.length > 5 ? [...v.slice(0, 5), `… ${v.length} in all`] : v,
  );
const saveReports = () => {
  if (process.env.FAULTLINE_FAULTS_REPORT)
    writeFileSync(process.env.FAULTLINE_FAULTS_REPORT, JSON.stringify(reports, null, 2));
};

for (const entry of MATRIX) {
  for (const store of entry.stores) {
    if (!LONG && !entry.short.includes(store)) continue;
    describe(`${entry.scenario.name} on ${store}`, () => {
      for (let round = 1; round <= ROUNDS; round++) {
        it(
          `round ${round}: nothing lost, no start on an ended lease, no overlap, only the doomed dead, resumes in time`,
          async () => {
            const adapter = await ADAPTERS[store]!();
            try {
              const report = await runScenario(adapter, entry.scenario);
              reports.push(report);
              console.log(compact(report));
              expectVerdict(report);
              if (entry.scenario.name.startsWith('sigkill'))
                expect(report.kills).toBeGreaterThanOrEqual(20);
              // A fault that heals must have stopped some worker, or it tested nothing.
              if (entry.scenario.restartAbortedMs !== undefined)
                expect(report.aborted).toBeGreaterThan(0);
            } finally {
              await adapter.close();
              saveReports();
            }
          },
          entry.scenario.deadlineMs + 30_000,
        );
      }
    });
  }
}

// The memory store: in-process, on virtual time (in-process.ts); cheap, so every scenario is in
// the short form too. A failing round prints its seed: `npx tsx test/faults/run.ts memory "<name>" <seed>`.
for (const scenario of MEMORY_MATRIX) {
  describe(`${scenario.name} on memory`, () => {
    for (let round = 1; round <= ROUNDS; round++) {
      it(`round ${round}: the same invariants, in one process on virtual time`, async () => {
        const report = await runInProcess(scenario);
        reports.push(report);
        console.log(compact(report));
        try {
          expectVerdict(report);
          if (scenario.name.startsWith('worker abandoned')) expect(report.kills).toBe(20);
        } finally {
          saveReports();
        }
      });
    }
  });
}
