/**
 * The published package as a stranger gets it: `npm pack`, then `npm install` of the tarball in a
 * fresh project outside the repository (offline: the CLI's dependencies and, later, the optional
 * peers are linked from the repository's node_modules). Every entry point in `exports` loads with
 * import and require and type-checks under `tsc --strict` (NodeNext); a missing optional peer is
 * one typed error and one exit code; `npx faultline demo` runs. Needs dist/ (npm test builds it).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const repoModules = path.join(root, 'node_modules');
const repoPackage = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
const RUNTIME_DEPS = Object.keys(repoPackage.dependencies);
/** Peers the full project gets, with the type packages the TypeScript consumer needs. */
const PEERS_FOR_FULL = [
  'better-sqlite3',
  'ioredis',
  'prom-client',
  'pino',
  '@types/better-sqlite3',
];

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd,
        timeout: 120_000,
        maxBuffer: 10 * 1024 * 1024,
        env: { ...process.env, NO_COLOR: '1', FAULTLINE_STORE: undefined, ...env },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function link(project: string, name: string): void {
  const target = path.join(project, 'node_modules', name);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (!fs.existsSync(target)) fs.symlinkSync(path.join(repoModules, name), target, 'dir');
}

let work: string;
let project: string;
let packed: { files: { path: string }[]; filename: string };
let entries: string[];
let installLog: string;

beforeAll(async () => {
  if (
    !fs.existsSync(path.join(root, 'dist', 'index.js')) ||
    !fs.existsSync(path.join(root, 'dist', 'cli.js'))
  ) {
    throw new Error(
      'dist/ is missing: build the package first (npm run build; npm test does it before vitest).',
    );
  }
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-tarball-'));
  const pack = await run('npm', ['pack', '--json', '--pack-destination', work], root);
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!;
  project = path.join(work, 'consumer');
  fs.mkdirSync(project);
  // The CLI's own dependencies come from the repository (offline); nothing else is installed.
  const dependencies: Record<string, string> = {
    faultline: `file:${path.join(work, packed.filename)}`,
  };
  for (const name of RUNTIME_DEPS) dependencies[name] = `file:${path.join(repoModules, name)}`;
  fs.writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({
      name: 'consumer',
      version: '1.0.0',
      private: true,
      type: 'module',
      dependencies,
    }),
  );
  const install = await run('npm', ['install', '--offline', '--no-audit', '--no-fund'], project);
  if (install.code !== 0) throw new Error(`npm install of the tarball failed:\n${install.stderr}`);
  installLog = install.stdout + install.stderr;
  const manifest = JSON.parse(
    fs.readFileSync(path.join(project, 'node_modules', 'faultline', 'package.json'), 'utf8'),
  ) as { exports: Record<string, unknown> };
  entries = Object.keys(manifest.exports)
    .filter((key) => key !== './package.json')
    .map((key) => (key === '.' ? 'faultline' : `faultline/${key.slice(2)}`));
}, 120_000);

afterAll(() => {
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('ships the license, .env.example, README, docs and dist, and no source maps', () => {
    const files = packed.files.map((f) => f.path);
    for (const name of [
      'LICENSE',
      '.env.example',
      'README.md',
      'package.json',
      'dist/index.js',
      'dist/index.cjs',
      'dist/index.d.ts',
      'dist/cli.js',
    ]) {
      expect(files).toContain(name);
    }
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(
      files.filter(
        (f) =>
          !/^(dist|docs)\//.test(f) &&
          !['LICENSE', '.env.example', 'README.md', 'package.json'].includes(f),
      ),
    ).toEqual([]);
    expect(
      fs.readFileSync(path.join(project, 'node_modules', 'faultline', 'LICENSE'), 'utf8'),
    ).toContain('Copyright (c) 2026 the faultline authors');
  });

  it('every file a shipped document links to is in the tarball', () => {
    const files = new Set(packed.files.map((f) => f.path));
    const missing: string[] = [];
    for (const doc of [...files].filter((f) => f.endsWith('.md'))) {
      const text = fs.readFileSync(path.join(root, doc), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!) || target!.startsWith('#')) continue;
        const file = path.posix.normalize(
          path.posix.join(path.posix.dirname(doc), target!.split('#')[0]!),
        );
        if (!files.has(file) && ![...files].some((f) => f.startsWith(`${file}/`)))
          missing.push(`${doc} → ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('installs without running any script of ours', () => {
    const manifest = JSON.parse(
      fs.readFileSync(path.join(project, 'node_modules', 'faultline', 'package.json'), 'utf8'),
    ) as { scripts?: Record<string, string> };
    const installScripts = [
      'preinstall',
      'install',
      'postinstall',
      'prepare',
      'preprepare',
      'postprepare',
    ];
    expect(
      Object.keys(manifest.scripts ?? {}).filter((name) => installScripts.includes(name)),
    ).toEqual([]);
    expect(installLog).not.toMatch(/install-scripts|prepare/);
  });
});

// Loads every entry point, lists its names, and reports which packages beyond faultline got loaded.
const PROBE = (entries: string[], load: string) => `
  const out = {};
  for (const entry of ${JSON.stringify(entries)}) {
    const m = ${load};
    out[entry] = Object.keys(m).sort();
  }
  out.loaded = Object.keys(req.cache).map((k) => k.split(/[\\\\/]node_modules[\\\\/]/)[1]).filter((p) => p && !p.startsWith('faultline')).map((p) => p.split(/[\\\\/]/)[0]);
  console.log(JSON.stringify(out));
`;

async function probe(kind: 'esm' | 'cjs', list: string[]): Promise<Record<string, string[]>> {
  const script =
    kind === 'esm'
      ? `import { createRequire } from 'node:module'; const req = createRequire(import.meta.url); ${PROBE(list, 'await import(entry)')}`
      : `const req = require; ${PROBE(list, 'require(entry)')}`;
  const result = await run(
    process.execPath,
    kind === 'esm' ? ['--input-type=module', '-e', script] : ['-e', script],
    project,
  );
  if (result.code !== 0) throw new Error(`${kind} consumer failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, string[]>;
}

describe('without any optional peer installed', () => {
  it('every entry point loads with import and with require, with the same names', async () => {
    const [esm, cjs] = await Promise.all([probe('esm', entries), probe('cjs', entries)]);
    expect(entries).toEqual(
      expect.arrayContaining([
        'faultline',
        'faultline/testing',
        'faultline/sqlite',
        'faultline/redis',
        'faultline/prometheus',
      ]),
    );
    for (const entry of entries) {
      expect(esm[entry]!.length, entry).toBeGreaterThan(0);
      expect(cjs[entry], entry).toEqual(esm[entry]);
    }
    // Nothing outside faultline is loaded by importing them, not even the CLI's dependencies.
    expect(esm.loaded).toEqual([]);
    expect(cjs.loaded).toEqual([]);
  }, 60_000);

  it('the core entry loads no runtime dependency', async () => {
    const core = await probe('cjs', ['faultline']);
    expect(core.loaded).toEqual([]);
  }, 60_000);

  it('using a store or metrics without its driver throws MissingPeerError naming the package and its install', async () => {
    const script = `
      const { MissingPeerError } = require('faultline');
      const attempts = {
        'better-sqlite3': () => new (require('faultline/sqlite').SqliteStore)('x.db'),
        ioredis: () => new (require('faultline/redis').RedisStore)({ url: 'redis://127.0.0.1:1' }),
        'prom-client': () => new (require('faultline/prometheus').FaultlineMetrics)(),
      };
      const out = {};
      for (const [name, attempt] of Object.entries(attempts)) {
        try { attempt(); out[name] = 'no error'; } catch (e) { out[name] = { typed: e instanceof MissingPeerError, packageName: e.packageName, message: e.message }; }
      }
      console.log(JSON.stringify(out));`;
    const result = await run(process.execPath, ['-e', script], project);
    expect(result.stderr).toBe('');
    const out = JSON.parse(result.stdout) as Record<
      string,
      { typed: boolean; packageName: string; message: string }
    >;
    for (const name of ['better-sqlite3', 'ioredis', 'prom-client']) {
      expect(out[name]).toEqual({
        typed: true,
        packageName: name,
        message: `The optional dependency ${name} is not installed; install it with: npm install ${name}`,
      });
    }
    expect(fs.existsSync(path.join(project, 'x.db'))).toBe(false);
  }, 60_000);

  it('the CLI says which package to install and exits 5, for every peer it needs', async () => {
    const store = path.join(work, 'store.db');
    fs.copyFileSync(
      path.join(root, 'test', 'fixtures', 'legacy-744aecd', 'lifeline-744aecd.sqlite'),
      store,
    );
    const cases: [string[], string][] = [
      [['stats', '--store', `sqlite:${store}`], 'better-sqlite3'],
      [['stats', '--store', 'redis://127.0.0.1:1'], 'ioredis'],
      [['demo', '--store', 'memory', '--metrics-port', '0', '--items', '5'], 'prom-client'],
    ];
    for (const [args, name] of cases) {
      const result = await run('npx', ['--offline', 'faultline', ...args], project);
      expect(result.stderr, args.join(' ')).toContain(
        `The optional dependency ${name} is not installed; install it with: npm install ${name}`,
      );
      expect(result.code, args.join(' ')).toBe(5);
    }
  }, 90_000);
});

describe('with the optional peers installed', () => {
  beforeAll(() => {
    for (const name of PEERS_FOR_FULL) link(project, name);
  });

  it('a strict TypeScript (NodeNext) consumer of every entry point type-checks, as ESM and as CommonJS', async () => {
    const lines = (kind: 'esm' | 'cjs') =>
      entries
        .map((entry, i) =>
          kind === 'esm'
            ? `import * as e${i} from '${entry}';\n// @ts-expect-error the types are real, not any\ne${i}.__notExported__;\nexport const n${i}: string[] = Object.keys(e${i});`
            : `import e${i} = require('${entry}');\n// @ts-expect-error the types are real, not any\ne${i}.__notExported__;\nexport const n${i}: string[] = Object.keys(e${i});`,
        )
        .join('\n');
    fs.writeFileSync(
      path.join(project, 'esm.ts'),
      `${lines('esm')}
import { classify, recoveryPlan, type Fault } from 'faultline';
import { SqliteStore } from 'faultline/sqlite';
const fault: Fault = classify(new Error('x'));
export const action: string = recoveryPlan().decide(fault, { attempt: 1, elapsedMs: 0 }).action;
export const store: SqliteStore | undefined = undefined;
`,
    );
    fs.writeFileSync(path.join(project, 'cjs.cts'), lines('cjs'));
    fs.writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [path.join(repoModules, '@types')],
        },
        files: ['esm.ts', 'cjs.cts'],
      }),
    );
    const result = await run(
      process.execPath,
      [path.join(repoModules, 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
      project,
    );
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);

  it('npx faultline demo crawls, then stats reads the same store', async () => {
    const demo = await run(
      'npx',
      ['--offline', 'faultline', 'demo', '--items', '40', '--json'],
      project,
    );
    expect(demo.stderr).not.toMatch(/Error|not installed/);
    expect(demo.code).toBe(0);
    expect(JSON.parse(demo.stdout)).toMatchObject({ items: 40 });
    const stats = await run(
      'npx',
      ['--offline', 'faultline', 'stats', '--store', 'sqlite:./faultline-demo.db', '--json'],
      project,
    );
    expect(stats.code).toBe(0);
  }, 120_000);
});
