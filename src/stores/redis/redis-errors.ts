import {
  type SanitizedCause,
  StoreConnectionError,
  StoreError,
} from '../../durable/store-errors.js';
import { classify } from '../../faults/classify.js';
import { FaultlineError } from '../../faults/errors.js';
import { redactCredentials } from './url.js';

/**
 * Turns whatever ioredis threw into a StoreError at the store boundary. ioredis errors carry
 * the command with its arguments (`AUTH user secret` among them) as an enumerable field, so
 * a log serializer would print the password: they never leave the store. What leaves says what
 * happened in words a person can act on (authentication failed, connection refused by
 * host:port, no answer) and keeps only a scrubbed name, message and code of the original.
 */
export interface RedisFailureContext {
  /** `redis://host:port/db`, no credentials. */
  readonly target: string;
  /** `host:port`, for "connection refused by ...". */
  readonly address: string;
  /** Passwords to scrub from any text. */
  readonly secrets: readonly (string | null | undefined)[];
  /** The last error the client reported on its own (reconnects): why a command gave up. */
  readonly lastConnectionError: unknown;
}

/** ioredis gives these when it gave up on a command because the connection is down. */
const GAVE_UP = new Set(['MaxRetriesPerRequestError']);
const CLOSED_MESSAGES = new Set([
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
]);

export function toStoreError(error: unknown, context: RedisFailureContext): unknown {
  // Ours already (ConfigError, JobNotFoundError, a StoreError from an earlier wrap): as it is.
  if (isFaultlineError(error)) return error;
  const cause = sanitize(error, context.secrets);
  const connectionDown = GAVE_UP.has(cause.name) || CLOSED_MESSAGES.has(cause.message);
  // When the command only says "gave up", the reason is the client's last connection error.
  const reason =
    connectionDown && context.lastConnectionError !== undefined
      ? sanitize(context.lastConnectionError, context.secrets)
      : cause;
  const word = replyCode(reason);
  if (word === 'WRONGPASS' || word === 'NOAUTH' || word === 'NOPERM') {
    const detail =
      word === 'NOAUTH'
        ? 'the server requires a password and none was given (NOAUTH)'
        : word === 'WRONGPASS'
          ? 'wrong user name or password (WRONGPASS)'
          : 'the user may not run this command (NOPERM)';
    return new StoreConnectionError(
      context.target,
      `Redis authentication failed at ${context.target}: ${detail}`,
      {
        category: 'auth',
        retryable: false,
        code: word,
        cause,
      },
    );
  }
  const code = reason.code;
  if (code === 'ECONNREFUSED') {
    return connectionError(
      context,
      `Redis connection refused by ${context.address}: is the server running on that port?`,
      'network',
      code,
      cause,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return connectionError(
      context,
      `Redis host of ${context.target} not found (${code})`,
      'network',
      code,
      cause,
    );
  }
  if (
    code === 'ETIMEDOUT' ||
    reason.message === 'Command timed out' ||
    reason.name === 'ConnectionTimeoutError'
  ) {
    return connectionError(
      context,
      `Redis at ${context.address} did not answer in time (${reason.message})`,
      'timeout',
      code ?? 'ETIMEDOUT',
      cause,
    );
  }
  if (
    connectionDown ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH'
  ) {
    return connectionError(
      context,
      `Lost the connection to Redis at ${context.address}: ${reason.message}`,
      'network',
      code ?? 'REDIS_CONNECTION_CLOSED',
      cause,
    );
  }
  // A reply error (OOM, WRONGTYPE, LOADING...) or anything else: the classification of the original decides.
  const fault = classify(error);
  return new StoreError(`Redis store ${context.target}: ${cause.message}`, {
    category: fault.category,
    retryable: fault.retryable,
    ...(fault.code === undefined ? {} : { code: fault.code }),
    cause,
  });
}

function connectionError(
  context: RedisFailureContext,
  message: string,
  category: 'network' | 'timeout',
  code: string,
  cause: SanitizedCause,
) {
  return new StoreConnectionError(context.target, message, {
    category,
    retryable: true,
    code,
    cause,
  });
}

/** Name, message (scrubbed) and code of any thrown value; nothing else of it is kept. */
export function sanitize(
  error: unknown,
  secrets: readonly (string | null | undefined)[],
): SanitizedCause {
  try {
    if (typeof error !== 'object' || error === null)
      return { name: 'Error', message: redactCredentials(String(error), secrets) };
    const { name, message, code } = error as { name?: unknown; message?: unknown; code?: unknown };
    const cause: { name: string; message: string; code?: string } = {
      name: typeof name === 'string' ? name : 'Error',
      message: typeof message === 'string' ? redactCredentials(message, secrets) : '',
    };
    if (typeof code === 'string') cause.code = code;
    return cause;
  } catch {
    return { name: 'Error', message: 'an unreadable error' };
  }
}

/** The first word of a Redis reply error (`WRONGPASS invalid ...` → `WRONGPASS`). */
function replyCode(cause: SanitizedCause): string {
  const space = cause.message.indexOf(' ');
  return space === -1 ? cause.message : cause.message.slice(0, space);
}

function isFaultlineError(error: unknown): boolean {
  try {
    return error instanceof FaultlineError;
  } catch {
    return false;
  }
}

/**
 * The same wrap for the shared policies (breaker, rate limiter, retry budgets), which are
 * handed an ioredis client rather than a URL: named by the client's host and port, its
 * password scrubbed.
 */
export function toStoreErrorFor(
  client: {
    readonly options?: { host?: string; port?: number; db?: number; password?: string | null };
  },
  error: unknown,
): unknown {
  const options = client.options ?? {};
  const address = `${options.host ?? '?'}:${options.port ?? '?'}`;
  return toStoreError(error, {
    target: `redis://${address}${options.db ? `/${options.db}` : ''}`,
    address,
    secrets: [options.password],
    lastConnectionError: undefined,
  });
}
