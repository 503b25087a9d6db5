/**
 * `faultline/otel` as a consumer loads it from the BUILT package (npm test builds dist/ first):
 * by name, with import and with require, the same names in both, and @opentelemetry/api loaded
 * only by this entry point.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const PROBE = `
  const names = Object.keys(otel).sort();
  const inCache = () => Object.keys(req.cache).filter((k) => /[\\\\/]@opentelemetry[\\\\/]api[\\\\/]/.test(k)).length > 0;
  const atImport = inCache();
  new otel.FaultlineOtelMetrics({});
  console.log(JSON.stringify({ names, atImport, loaded: inCache() }));
`;
const ESM = `import * as otel from 'faultline/otel'; import { createRequire } from 'node:module'; const req = createRequire(import.meta.url); ${PROBE}`;
const CJS = `const otel = require('faultline/otel'); const req = require; ${PROBE}`;

function node(args: string[]): Promise<{ names: string[]; atImport: boolean; loaded: boolean }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!));
    });
  });
}

describe('faultline/otel, built', () => {
  it('loads by name with import and require, with the same names', async () => {
    if (!fs.existsSync(path.join(root, 'dist', 'otel.cjs')))
      throw new Error('dist/otel.cjs is missing: build the package first (npm run build)');
    const [esm, cjs] = await Promise.all([
      node(['--input-type=module', '-e', ESM]),
      node(['-e', CJS]),
    ]);
    expect(esm.names).toEqual(
      expect.arrayContaining(['FaultlineOtelMetrics', 'tracePolicy', 'traceQueue', 'traceWorker']),
    );
    expect(cjs.names).toEqual(esm.names);
    // CommonJS: importing the entry point loads no peer; its first use loads @opentelemetry/api.
    expect(cjs.atImport).toBe(false);
    expect(cjs.loaded).toBe(true);
  }, 120_000);
});
