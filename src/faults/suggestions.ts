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
    'Honour Retry-After: faultline waits at least as long as the server asked.',
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
  cancelled: [
    'The operation was cancelled (shutdown or caller abort); it was not a failure of the remote side.',
  ],
  unknown: [
    'The error was not recognised; it is retried a few times.',
    'Add a classifier for it (classifiers: [...]) to give it a precise category.',
  ],
});

const BY_CODE: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries({
    ENOSPC: ['Free disk space (or raise the quota) on the volume being written, then restart.'],
    EDQUOT: ['The disk quota is exhausted: free space or raise the quota, then restart.'],
    ENOMEM: [
      'The process ran out of memory: lower concurrency or batch sizes, or raise the memory limit.',
    ],
    EMFILE: [
      'Too many open files: raise the file-descriptor limit (ulimit -n) or close unused handles.',
    ],
    ENFILE: ['The system file table is full: close unused handles or raise the system limit.'],
    ENOTFOUND: [
      'The host name did not resolve: check the spelling of the host and the DNS configuration.',
    ],
    EAI_AGAIN: ['DNS lookup failed temporarily: check the DNS server and network.'],
    ECONNREFUSED: [
      'Nothing is listening at the address: check that the service is running and the port is right.',
    ],
    ECONNRESET: [
      'The remote side closed the connection abruptly: often a restart, a proxy or a load balancer timeout.',
    ],
    ETIMEDOUT: [
      'The connection timed out: the host may be down, overloaded or behind a firewall that drops packets.',
    ],
    EHOSTUNREACH: [
      'No route to the host: check the network, VPN and firewall between here and there.',
    ],
    ENETUNREACH: [
      'The network is unreachable: check that this machine is online and its routes are configured.',
    ],
    EPIPE: [
      'The remote side closed the connection while we were writing: it may have restarted or rejected the request size.',
    ],
    UND_ERR_CONNECT_TIMEOUT: [
      'Connecting took too long: check that the host is reachable and not overloaded.',
    ],
    UND_ERR_HEADERS_TIMEOUT: [
      'The server accepted the request but sent no response headers in time: it may be overloaded.',
    ],
    UND_ERR_BODY_TIMEOUT: [
      'The response body stalled: the server or a proxy stopped sending data.',
    ],
    EACCES: [
      'Permission denied: check file or socket permissions for the user running the process.',
    ],
    EPERM: ['The operation is not permitted for this user: check permissions and ownership.'],
    EISDIR: ['A directory was found where a file was expected: check the path.'],
    ENOENT: ['The file or directory does not exist: check the path.'],
    SQLITE_BUSY: [
      'The SQLite database is locked by another connection: it is retried; raise busy_timeout if it persists.',
    ],
    SQLITE_FULL: ['The SQLite database or its disk is full: free disk space.'],
    SQLITE_CORRUPT: [
      'The SQLite file is corrupt: restore it from a backup and run PRAGMA integrity_check.',
    ],
    SQLITE_NOTADB: ['The file is not a SQLite database: check the path.'],
    SQLITE_LOCKED: [
      'A table is locked by another statement on the same connection: finish or reset open statements.',
    ],
    SQLITE_READONLY: [
      'The SQLite database is read-only: check file permissions and that it was not opened readonly.',
    ],
    SQLITE_CANTOPEN: [
      'SQLite cannot open the store file: check that its folder exists and is writable (WAL needs -wal and -shm files beside it).',
    ],
    STORE_FILE_GONE: [
      'The SQLite store file was deleted or replaced while open: restore it from a backup, then restart the workers.',
    ],
    SQLITE_CONSTRAINT_UNIQUE: [
      'A row with the same unique key exists: use an idempotency key or upsert instead of insert.',
    ],
    SQLITE_CONSTRAINT_PRIMARYKEY: [
      'A row with the same primary key exists: use an idempotency key or upsert instead of insert.',
    ],
    SQLITE_CONSTRAINT_NOTNULL: ['A required column was null: fix the payload.'],
    SQLITE_CONSTRAINT_FOREIGNKEY: [
      'A referenced row does not exist: create it first or fix the reference.',
    ],
    OOM: ['Redis is out of memory: raise maxmemory, set an eviction policy, or purge old jobs.'],
    NOAUTH: ['Redis needs a password: set it in the Redis URL (redis://:password@host:port).'],
    WRONGPASS: ['The Redis username or password is wrong: update the Redis URL.'],
    READONLY: ['Connected to a Redis replica: point the client at the primary.'],
    LOADING: ['Redis is loading its dataset after a restart: wait, it is retried.'],
    BUSY: [
      'Redis is busy running a long script: it is retried; look for slow Lua scripts (SLOWLOG).',
    ],
    MASTERDOWN: ['The Redis replica lost its primary: check replication and failover.'],
    CLUSTERDOWN: [
      'The Redis cluster is down or resharding: check the cluster state (CLUSTER INFO).',
    ],
    TRYAGAIN: ['The Redis cluster is resharding: it is retried.'],
    NOPERM: ['The Redis ACL user lacks permission for this command or key: update the ACL.'],
    WRONGTYPE: [
      'A Redis key holds a different type than expected: check the key prefix for collisions.',
    ],
    '40001': ['A serialization failure: the transaction is retried; keep transactions short.'],
    '40P01': [
      'A deadlock was detected: the transaction is retried; take locks in a consistent order.',
    ],
    '53300': [
      'PostgreSQL has too many connections: use a pool, lower its size, or raise max_connections.',
    ],
    '57P01': [
      'PostgreSQL is shutting down (admin shutdown): it is retried; check for a restart or failover.',
    ],
    '57P03': [
      'PostgreSQL is not accepting connections yet (starting up or in recovery): it is retried.',
    ],
    '57014': [
      'The query was cancelled, usually by statement_timeout: make it faster or raise the timeout.',
    ],
    '28P01': ['The PostgreSQL password was rejected: update the connection credentials.'],
    '23505': ['A row with the same unique key exists: use an idempotency key or ON CONFLICT.'],
    '42P01': ['The table does not exist: run the migrations or check the schema name.'],
    ExpiredToken: ['The AWS session token has expired: refresh the credentials.'],
    ExpiredTokenException: ['The AWS session token has expired: refresh the credentials.'],
    InvalidAccessKeyId: ['The AWS access key id is not valid: check AWS_ACCESS_KEY_ID.'],
    SignatureDoesNotMatch: [
      'The AWS secret key does not match: check AWS_SECRET_ACCESS_KEY and the clock of this machine.',
    ],
    SlowDown: ['S3 asks to slow down: lower the request rate on this prefix.'],
    ThrottlingException: [
      'AWS throttled the call: lower the request rate or ask for a higher service quota.',
    ],
    ProvisionedThroughputExceededException: [
      'DynamoDB throughput is exceeded: raise capacity or use on-demand mode.',
    ],
    InvalidClientTokenId: [
      'The AWS access key is not valid for this account or region: check the credentials.',
    ],
    UnrecognizedClientException: [
      'AWS did not recognise the credentials: check the access key, secret and session token.',
    ],
    RequestTimeout: [
      'AWS closed the request because the body arrived too slowly: check the upload bandwidth.',
    ],
    NoSuchKey: ['The object does not exist: check the key.'],
    NoSuchBucket: ['The bucket does not exist: check the bucket name and region.'],
  }).map(([code, list]) => [code, Object.freeze(list)] as const),
);

const BY_STATUS: ReadonlyMap<number, readonly string[]> = new Map(
  Object.entries({
    401: ['The server did not accept the credentials: update or refresh the token or API key.'],
    407: ['The proxy requires authentication: set credentials in the proxy URL.'],
    403: [
      'Access to this item is forbidden: check its permissions; the credentials themselves were accepted.',
    ],
    405: ['The method is not allowed on this URL: check the HTTP method and the endpoint.'],
    408: ['The server timed out waiting for the request: check the upload speed and request size.'],
    409: [
      'The resource changed concurrently: it is retried; reload it before updating if conflicts persist.',
    ],
    422: ['The server understood the request but rejected its content: fix the payload.'],
    429: [
      'Too many requests: lower the request rate or concurrency; faultline waits as long as the server asks.',
    ],
    501: [
      'The server does not implement this request: check the method, endpoint and API version.',
    ],
    502: ['A gateway got a bad answer from the server behind it: the upstream may be restarting.'],
    503: ['The server is overloaded or down for maintenance: it is retried with backoff.'],
    504: ['A gateway timed out waiting for the server behind it: the upstream is slow or down.'],
    404: ['The item was not found: check its identifier or URL.'],
    410: ['The item is gone for good: remove it from the work list.'],
    413: ['The request is too large: split it into smaller parts.'],
  }).map(([status, list]) => [Number(status), Object.freeze(list)] as const),
);

// Combined lists, built once per (category, code or status): classifying allocates nothing here.
const combinedByCode = new Map<FaultCategory, Map<string, readonly string[]>>();
const combinedByStatus = new Map<FaultCategory, Map<number, readonly string[]>>();

function combine<K>(
  cache: Map<FaultCategory, Map<K, readonly string[]>>,
  category: FaultCategory,
  key: K,
  specific: readonly string[],
): readonly string[] {
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
export function suggestionsFor(
  category: FaultCategory,
  code?: string,
  status?: number,
): readonly string[] {
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

function freezeAll<T extends Record<string, string[]>>(
  record: T,
): Readonly<Record<keyof T, readonly string[]>> {
  for (const key of Object.keys(record)) Object.freeze(record[key]);
  return Object.freeze(record);
}
