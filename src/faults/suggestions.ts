import type { FaultCategory } from './fault.js';

/**
 * What a person can do about a fault. The lists are frozen and shared: classifying an error
 * allocates no suggestion strings.
 */
const BY_CATEGORY: Readonly<Record<FaultCategory, readonly string[]>> = freezeAll({
  network: [
    'Check network connectivity to the remote host (DNS, firewall, VPN).',
    'Check proxy settings (HTTP_PROXY, HTTPS_PROXY, NO_PROXY).',
    'The call is retried with backoff; if it keeps failing, the remote host may be down.',
  ],
  timeout: [
    'The remote side did not answer in time: it may be overloaded or the timeout may be too short.',
    'Raise the timeout only if the operation is known to be slow; otherwise lower concurrency.',
  ],
  rate_limit: [
    'Lower the request rate or concurrency, or ask the provider to raise the quota.',
    'Honour Retry-After: lifeline waits at least as long as the server asked.',
  ],
  unavailable: [
    'The service is temporarily unavailable; it is retried with backoff.',
    'Check the service status page or its health endpoint if this persists.',
  ],
  auth: [
    'Update or refresh the credentials (token, API key, password) and restart.',
    'Check that the credentials have not expired and carry the needed permissions.',
  ],
  permanent: [
    'The request cannot succeed as it is: check the identifier, path or permissions of this item.',
    'It is not retried; fix the input and requeue it if needed.',
  ],
  validation: [
    'The input was rejected as invalid: fix the payload and requeue it.',
    'It is not retried; retrying the same input gives the same answer.',
  ],
  conflict: [
    'The resource was changed or locked concurrently; it is retried with backoff.',
    'If conflicts persist, reduce concurrency on the same resource.',
  ],
  resource: [
    'A local resource is exhausted (disk, memory, file handles): free it before continuing.',
    'Work is stopped gracefully so nothing is lost; restart once the resource is available.',
  ],
  cancelled: ['The operation was cancelled (shutdown or caller abort); it was not a failure of the remote side.'],
  unknown: [
    'The error was not recognised; it is retried a few times.',
    'Add a classifier for it (classifiers: [...]) to give it a precise category.',
  ],
});

const BY_CODE: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries({
    ENOSPC: ['Free disk space (or raise the quota) on the volume being written, then restart.'],
    EDQUOT: ['The disk quota is exhausted: free space or raise the quota, then restart.'],
    ENOMEM: ['The process ran out of memory: lower concurrency or batch sizes, or raise the memory limit.'],
    EMFILE: ['Too many open files: raise the file-descriptor limit (ulimit -n) or close unused handles.'],
    ENFILE: ['The system file table is full: close unused handles or raise the system limit.'],
    ENOTFOUND: ['The host name did not resolve: check the spelling of the host and the DNS configuration.'],
    EAI_AGAIN: ['DNS lookup failed temporarily: check the DNS server and network.'],
    ECONNREFUSED: ['Nothing is listening at the address: check that the service is running and the port is right.'],
    ECONNRESET: ['The remote side closed the connection abruptly: often a restart, a proxy or a load balancer timeout.'],
    EACCES: ['Permission denied: check file or socket permissions for the user running the process.'],
    ENOENT: ['The file or directory does not exist: check the path.'],
    SQLITE_BUSY: ['The SQLite database is locked by another connection: it is retried; raise busy_timeout if it persists.'],
    SQLITE_FULL: ['The SQLite database or its disk is full: free disk space.'],
    SQLITE_CORRUPT: ['The SQLite file is corrupt: restore it from a backup and run PRAGMA integrity_check.'],
    SQLITE_NOTADB: ['The file is not a SQLite database: check the path.'],
    OOM: ['Redis is out of memory: raise maxmemory, set an eviction policy, or purge old jobs.'],
    NOAUTH: ['Redis needs a password: set it in the Redis URL (redis://:password@host:port).'],
    WRONGPASS: ['The Redis username or password is wrong: update the Redis URL.'],
    READONLY: ['Connected to a Redis replica: point the client at the primary.'],
    LOADING: ['Redis is loading its dataset after a restart: wait, it is retried.'],
    '40001': ['A serialization failure: the transaction is retried; keep transactions short.'],
    '40P01': ['A deadlock was detected: the transaction is retried; take locks in a consistent order.'],
    ExpiredToken: ['The AWS session token has expired: refresh the credentials.'],
    ExpiredTokenException: ['The AWS session token has expired: refresh the credentials.'],
    InvalidAccessKeyId: ['The AWS access key id is not valid: check AWS_ACCESS_KEY_ID.'],
    SignatureDoesNotMatch: ['The AWS secret key does not match: check AWS_SECRET_ACCESS_KEY and the clock of this machine.'],
    SlowDown: ['S3 asks to slow down: lower the request rate on this prefix.'],
    NoSuchKey: ['The object does not exist: check the key.'],
    NoSuchBucket: ['The bucket does not exist: check the bucket name and region.'],
  }).map(([code, list]) => [code, Object.freeze(list)] as const),
);

const BY_STATUS: ReadonlyMap<number, readonly string[]> = new Map(
  Object.entries({
    403: ['Access to this item is forbidden: check its permissions; the credentials themselves were accepted.'],
    404: ['The item was not found: check its identifier or URL.'],
    410: ['The item is gone for good: remove it from the work list.'],
    413: ['The request is too large: split it into smaller parts.'],
  }).map(([status, list]) => [Number(status), Object.freeze(list)] as const),
);

// Combined lists, built once per (category, code or status): classifying allocates nothing here.
const combinedByCode = new Map<FaultCategory, Map<string, readonly string[]>>();
const combinedByStatus = new Map<FaultCategory, Map<number, readonly string[]>>();

function combine<K>(cache: Map<FaultCategory, Map<K, readonly string[]>>, category: FaultCategory, key: K, specific: readonly string[]): readonly string[] {
  let perCategory = cache.get(category);
  if (perCategory === undefined) {
    perCategory = new Map();
    cache.set(category, perCategory);
  }
  let list = perCategory.get(key);
  if (list === undefined) {
    list = Object.freeze([...specific, ...BY_CATEGORY[category]]);
    perCategory.set(key, list);
  }
  return list;
}

/** Most specific first: the code's or status's advice, then the category's. */
export function suggestionsFor(category: FaultCategory, code?: string, status?: number): readonly string[] {
  if (code !== undefined) {
    const specific = BY_CODE.get(code);
    if (specific !== undefined) return combine(combinedByCode, category, code, specific);
  }
  if (status !== undefined) {
    const specific = BY_STATUS.get(status);
    if (specific !== undefined) return combine(combinedByStatus, category, status, specific);
  }
  return BY_CATEGORY[category];
}

function freezeAll<T extends Record<string, string[]>>(record: T): Readonly<Record<keyof T, readonly string[]>> {
  for (const key of Object.keys(record)) Object.freeze(record[key]);
  return Object.freeze(record);
}
