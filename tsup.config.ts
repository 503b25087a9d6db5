import { defineConfig } from 'tsup';

// Each public entry point is built twice (ESM and CommonJS) with bundled type declarations.
// Peer dependencies stay external, so only the entry point that needs one loads it.
// No source maps: the output is unminified, readable ESM/CommonJS whose stack traces already
// point at code a user can read, and maps would point at src/ files the package does not ship.
const external = [
  'better-sqlite3',
  'ioredis',
  'prom-client',
  'commander',
  'cli-table3',
  'cli-progress',
  'pino',
  'pg',
  /^@opentelemetry\//,
];

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      testing: 'src/testing/index.ts',
      sqlite: 'src/stores/sqlite/index.ts',
      redis: 'src/stores/redis/index.ts',
      postgres: 'src/stores/postgres/index.ts',
      prometheus: 'src/observe/prometheus/index.ts',
      otel: 'src/observe/otel/index.ts',
      dashboard: 'src/dashboard/index.ts',
      extend: 'src/extend/index.ts',
    },
    format: ['esm', 'cjs'],
    // @internal members stay out of the published declarations.
    dts: { compilerOptions: { stripInternal: true } },
    sourcemap: false,
    // import.meta.url in the CommonJS build (optional peers are required from the package's own location).
    shims: true,
    clean: true,
    target: 'node20',
    splitting: true,
    treeshake: true,
    external,
  },
  {
    // The CLI: ESM only, with a shebang, not part of the typed API.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: false,
    clean: false,
    target: 'node20',
    external,
  },
]);
