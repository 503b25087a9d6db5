// The import rules of docs/architecture.md ("Layout"), checked by `npm run lint:layers` (part of
// `npm test`). LAYERS is that table: a folder under src/ may import itself and the folders listed;
// anything else is a violation. Keep the two in step: change the table and this map together.
const LAYERS = {
  time: [],
  dispose: [],
  faults: [],
  validate: ['faults', 'time'],
  peers: ['faults'],
  recovery: ['faults', 'validate'],
  config: ['faults', 'validate', 'recovery'],
  observe: ['time', 'peers', 'dispose'],
  // The OpenTelemetry adapter reads jobs and decisions, so it sits above durable/ (its own entry point).
  'observe/otel': ['time', 'faults', 'validate', 'config', 'peers', 'observe', 'durable', 'policies'],
  // The log and Prometheus adapters subscribe through the emitters' event maps (type imports), so
  // a renamed event breaks the build: they sit above the folders whose events they read.
  'observe/log': ['observe', 'policies', 'durable', 'health'],
  'observe/prometheus': ['time', 'peers', 'dispose', 'observe', 'policies', 'durable', 'health'],
  policies: ['time', 'faults', 'validate', 'recovery', 'observe'],
  health: ['time', 'faults', 'validate', 'recovery', 'observe'],
  lifecycle: ['time', 'faults', 'validate', 'observe'],
  durable: ['time', 'faults', 'validate', 'recovery', 'observe', 'policies'],
  stores: ['time', 'faults', 'validate', 'config', 'observe', 'peers', 'policies', 'durable', 'dispose'],
  testing: ['time', 'faults', 'validate', 'recovery', 'observe', 'policies', 'dispose'],
  demo: ['time', 'faults', 'recovery', 'policies', 'durable', 'testing'],
  extend: ['validate', 'peers', 'policies', 'durable'],
  dashboard: ['time', 'faults', 'validate', 'config', 'observe', 'durable'],
  cli: ['time', 'faults', 'peers', 'config', 'observe', 'lifecycle', 'durable', 'stores', 'demo', 'dashboard'],
};
/** The core entry (src/index.ts) re-exports these; never the CLI, the demo, testing or a driver's store. */
const ROOT = ['dispose', 'time', 'faults', 'recovery', 'observe', 'policies', 'health', 'lifecycle', 'durable', 'config', 'stores/index.ts', 'stores/memory'];
const PEERS = ['better-sqlite3', 'ioredis', 'prom-client', 'pino', 'pg', '@opentelemetry/api'];

const folders = Object.keys(LAYERS);
const either = (names) => `(${names.join('|')})`;

module.exports = {
  forbidden: [
    ...folders.map((folder) => ({
      name: `layer-${folder}`,
      comment: `src/${folder}/ may import only ${LAYERS[folder].join(', ') || 'nothing else in src/'} (docs/architecture.md)`,
      severity: 'error',
      // A sub-folder with a row of its own (observe/otel) is judged by that row, not its parent's.
      from: { path: `^src/${folder}/`, pathNot: folders.filter((f) => f.startsWith(`${folder}/`)).map((f) => `^src/${f}/`) },
      to: {
        path: '^src/',
        pathNot: [`^src/${folder}/`, ...LAYERS[folder].map((allowed) => `^src/${allowed}/`), '^package\\.json$'],
      },
    })),
    {
      name: 'layer-root-entry',
      comment: `src/index.ts re-exports only ${ROOT.join(', ')}`,
      severity: 'error',
      from: { path: '^src/index\\.ts$' },
      to: { path: '^src/', pathNot: ROOT.map((allowed) => `^src/${allowed}(/|$)`) },
    },
    {
      name: 'src-outside-src',
      comment: 'The library never imports examples, tests or benchmarks (the CLI would bundle them)',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(examples|test|bench)/' },
    },
    {
      name: 'unknown-src-folder',
      comment: 'Every folder under src/ has a row in docs/architecture.md and in LAYERS above',
      severity: 'error',
      from: { path: `^src/(?!${either(folders)}/|index\\.ts$)` },
      to: {},
    },
    {
      name: 'peers-only-through-loadPeer',
      comment: 'Optional peers are loaded by src/peers/optional-peer.ts when needed; elsewhere only their types are imported',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: `(^|/)node_modules/${either(PEERS.map((p) => p.replace('/', '\\/')))}/`, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      // Type-only cycles (a context type naming its worker) cost nothing at run time.
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
