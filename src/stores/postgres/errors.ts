import {
  type SanitizedCause,
  StoreConnectionError,
  StoreError,
} from '../../durable/store-errors.js';
import { redactCredentials } from '../../config/redact.js';
import { classify } from '../../faults/classify.js';
import { FaultlineError } from '../../faults/errors.js';
import type { FaultCategory } from '../../faults/fault.js';

/**
 * Turns whatever node-postgres threw into a StoreError at the store boundary, so the worker's
 * plan sees a typed, classified failure (a dropped connection is transient, a refused password
 * is not) and a log sees no credential: node-postgres errors carry the server's `detail`
 * (row values), `where`, and a connection error may echo the URL. What leaves keeps a scrubbed
 * name, message and code of the original and nothing else.
 */
export interface PostgresFailureContext {
  /** `postgres://host:port/database`, no credentials. */
  readonly target: string;
  /** Passwords to scrub from any text. */
  readonly secrets: readonly (string | undefined)[];
}

/** Socket codes of a connection that failed or went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** SQLSTATEs of a server going away: admin_shutdown (also pg_terminate_backend), crash_shutdown, cannot_connect_now. */
const SERVER_GONE = new Set(['57P01', '57P02', '57P03']);
/** node-postgres's own words for a connection that ended or never answered. */
const CLOSED = /^Connection terminated|^Client has encountered a connection error|not queryable/;
const TIMED_OUT = /timeout|timed out/i;

export function toPostgresStoreError(error: unknown, context: PostgresFailureContext): unknown {
  if (isFaultlineError(error)) return error;
  const cause = sanitizeCause(error, context.secrets);
  const code = cause.code;
  if (code === '28P01' || code === '28000') {
    return new StoreConnectionError(
      context.target,
      `PostgreSQL authentication failed at ${context.target} (${code}): check the user and password`,
      { category: 'auth', retryable: false, code, cause },
    );
  }
  if (code === '3D000') {
    return new StoreConnectionError(
      context.target,
      `PostgreSQL at ${context.target}: the database does not exist (3D000)`,
      { category: 'permanent', retryable: false, code, cause },
    );
  }
  if (code === 'ETIMEDOUT' || (code === undefined && TIMED_OUT.test(cause.message))) {
    return connectionError(
      context,
      'did not answer in time',
      'timeout',
      code ?? 'ETIMEDOUT',
      cause,
    );
  }
  if (
    (code !== undefined &&
      (NETWORK_CODES.has(code) || SERVER_GONE.has(code) || code.startsWith('08'))) ||
    CLOSED.test(cause.message)
  ) {
    return connectionError(
      context,
      code === 'ECONNREFUSED'
        ? 'refused the connection: is the server running?'
        : 'lost the connection',
      'network',
      code ?? 'PG_CONNECTION_CLOSED',
      cause,
    );
  }
  if (code === '53300') {
    return connectionError(context, 'has too many connections (53300)', 'resource', code, cause);
  }
  // A statement error (constraint, serialization, canceled...): the original's classification.
  const fault = classify(error);
  return new StoreError(`PostgreSQL store ${context.target}: ${cause.message}`, {
    category: fault.category,
    retryable: fault.retryable,
    ...(code === undefined ? {} : { code }),
    cause,
  });
}

function connectionError(
  context: PostgresFailureContext,
  what: string,
  category: FaultCategory,
  code: string,
  cause: SanitizedCause,
): StoreConnectionError {
  return new StoreConnectionError(
    context.target,
    `PostgreSQL at ${context.target} ${what}: ${cause.message}`,
    { category, retryable: true, code, cause },
  );
}

/** Name, message (scrubbed) and code of any thrown value; nothing else of it is kept. */
function sanitizeCause(error: unknown, secrets: readonly (string | undefined)[]): SanitizedCause {
  try {
    if (typeof error !== 'object' || error === null)
      return { name: 'Error', message: redactCredentials(String(error), secrets) };
    const { name, message, code } = error as { name?: unknown; message?: unknown; code?: unknown };
    return {
      name: typeof name === 'string' ? name : 'Error',
      message: typeof message === 'string' ? redactCredentials(message, secrets) : '',
      ...(typeof code === 'string' ? { code } : {}),
    };
  } catch {
    return { name: 'Error', message: 'an unreadable error' };
  }
}

function isFaultlineError(error: unknown): boolean {
  try {
    return error instanceof FaultlineError;
  } catch {
    return false;
  }
}
