import { defineConfig } from 'tsup';

// Each public entry point is built twice (ESM and CommonJS) with bundled type declarations.
// Peer dependencies stay external, so only the entry point that needs one loads it.
const external = ['better-sqlite3', 'ioredis', 'pg', 'prom-client', 'commander', 'cli-table3', 'cli-progress', 'pino'];

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      testing: 'src/testing/index.ts',
      sqlite: 'src/stores/sqlite/index.ts',
      redis: 'src/stores/redis/index.ts',
      postgres: 'src/stores/postgres/index.ts',
      prometheus: 'src/observe/prometheus/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
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
    sourcemap: true,
    clean: false,
    target: 'node20',
    external,
  },
]);
