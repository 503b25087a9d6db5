// The API report: one file per entry point in etc/ (etc/faultline.api.md, etc/faultline-redis.api.md…),
// made by API Extractor from the built declarations (dist/*.d.ts, so run `npm run build` first).
//   node scripts/api-report.mjs --check   fails when the public API differs from the checked-in report
//   node scripts/api-report.mjs --update  rewrites the reports (commit them with the change)
import { readFileSync } from 'node:fs';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const mode = process.argv[2];
if (mode !== '--check' && mode !== '--update') {
  console.error('usage: node scripts/api-report.mjs --check | --update');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const configFile = new URL('../api-extractor.json', import.meta.url).pathname;
const base = ExtractorConfig.loadFile(configFile);
let failed = 0;
// ae-forgotten-export per entry point: a type its declarations use but it does not export.
const forgotten = new Map();
const exportedBy = new Map();
for (const [subpath, conditions] of Object.entries(manifest.exports)) {
  if (subpath === './package.json') continue;
  const types = conditions.import.types;
  const name = subpath === '.' ? manifest.name : `${manifest.name}-${subpath.slice(2).replaceAll('/', '-')}`;
  const config = ExtractorConfig.prepare({
    configObject: { ...base, mainEntryPointFilePath: `<projectFolder>/${types.slice(2)}`, apiReport: { ...base.apiReport, reportFileName: `${name}.api.md` } },
    configObjectFullPath: configFile,
    packageJsonFullPath: new URL('../package.json', import.meta.url).pathname,
  });
  const missing = new Set();
  forgotten.set(subpath, missing);
  const result = Extractor.invoke(config, {
    localBuild: mode === '--update',
    showVerboseMessages: false,
    messageCallback: (message) => {
      if (message.messageId === 'ae-forgotten-export') {
        const symbol = /The symbol "([^"]+)"/.exec(message.text)?.[1];
        if (symbol !== undefined) missing.add(symbol);
      }
      quietUnlessError(message);
    },
  });
  const report = readFileSync(new URL(`../.tmp/api/${name}.api.md`, import.meta.url), 'utf8');
  exportedBy.set(subpath, new Set([...report.matchAll(/^export (?:declare )?(?:abstract )?(?:interface|type|class|function|const|namespace|enum) (\w+)/gm)].map((m) => m[1])));
  if (result.apiReportChanged && mode === '--check') {
    console.error(`${subpath}: the public API differs from etc/${name}.api.md (see .tmp/api/${name}.api.md); if the change is meant, run npm run api:update and commit the report`);
    failed++;
  } else if (!result.succeeded) {
    console.error(`${subpath}: API Extractor reported ${result.errorCount} error(s)`);
    failed++;
  } else {
    console.log(`${subpath}: ${result.apiReportChanged ? 'report updated' : 'unchanged'} (etc/${name}.api.md)`);
  }
}
// A type used but not exported by a sub-entry is deliberate when another entry point exports it
// (the root `faultline` or `faultline/extend`: the same declaration users import from there).
// One that no entry point exports is a forgotten export: export it, or make it internal.
for (const [subpath, symbols] of forgotten) {
  for (const symbol of symbols) {
    const elsewhere = [...exportedBy].filter(([other, names]) => other !== subpath && names.has(symbol));
    if (elsewhere.length > 0) continue;
    console.error(`${subpath}: ${symbol} is part of the API but no entry point exports it: export it, or mark it @internal`);
    failed++;
  }
}
process.exitCode = failed === 0 ? 0 : 1;

function quietUnlessError(message) {
  if (message.logLevel !== 'error') message.handled = true;
}
