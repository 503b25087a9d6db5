import { createRequire } from 'node:module';
import { MissingPeerError } from '../faults/errors.js';

/**
 * The optional peer dependencies and how to install each. Only the entry point that needs a peer
 * loads it, through `loadPeer`, at the moment it is first needed (constructing a store, a metrics
 * registry, a logger), so importing an entry point never fails for a missing driver.
 */
export const OPTIONAL_PEERS = {
  'better-sqlite3': 'npm install better-sqlite3',
  ioredis: 'npm install ioredis',
  'prom-client': 'npm install prom-client',
  pino: 'npm install pino',
  pg: 'npm install pg',
  '@opentelemetry/api': 'npm install @opentelemetry/api',
} as const;

export type OptionalPeer = keyof typeof OPTIONAL_PEERS;

// Resolved from this package's own location, as a static import would be (tsup shims
// import.meta.url in the CommonJS build).
const requireFromHere = createRequire(import.meta.url);

/**
 * Loads an optional peer synchronously. A peer that is not installed throws `MissingPeerError`
 * (naming the package and the command that installs it); any other failure, such as a native
 * module built for another Node version, is rethrown as it is.
 */
export function loadPeer<T>(name: OptionalPeer): T {
  try {
    return requireFromHere(name) as T;
  } catch (error) {
    if (isNotFound(error, name))
      throw new MissingPeerError(name, OPTIONAL_PEERS[name], { cause: error });
    throw error;
  }
}

function isNotFound(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${name}'`)
  );
}
