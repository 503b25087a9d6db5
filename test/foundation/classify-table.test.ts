/**
 * Table-driven: every mapping of issue 2, in every shape the clients throw. Shapes that cannot be
 * produced locally (AWS throttling, PostgreSQL SQLSTATEs, Redis LOADING/OOM, ...) are built with the
 * libraries' own error classes where they export them (S3ServiceException, ioredis ReplyError,
 * better-sqlite3 SqliteError) and as faithful literals otherwise (pg's DatabaseError, node-redis).
 */
import { NoSuchBucket, NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConfigError,
  classify,
  createClassifier,
  FAULT_CATEGORIES,
  type FaultCategory,
  isFault,
  parseRetryAfter,
  RateLimitedError,
  RetriesExhaustedError,
  retryAfterFromHeaders,
  suggestionsFor,
  TimeoutError,
} from '../../src/faults/index.js';

const NOW = Date.UTC(2030, 0, 15, 10, 0, 0);
const classifyAt = createClassifier({ wallTime: () => NOW });

const errnoError = (code: string, message = `${code} happened`) =>
  Object.assign(new Error(message), { code, errno: -1, syscall: 'connect' });

describe('HTTP statuses, in every shape', () => {
  const statuses: [number, FaultCategory][] = [
    [400, 'validation'],
    [401, 'auth'],
    [403, 'permanent'],
    [404, 'permanent'],
    [405, 'permanent'],
    [407, 'auth'],
    [408, 'timeout'],
    [409, 'conflict'],
    [410, 'permanent'],
    [422, 'validation'],
    [429, 'rate_limit'],
    [500, 'unavailable'],
    [501, 'permanent'],
    [502, 'unavailable'],
    [503, 'unavailable'],
    [504, 'unavailable'],
    [505, 'permanent'],
  ];

  const shapes: [string, (status: number) => unknown][] = [
    ['thrown fetch Response', (status) => new Response(null, { status })],
    ['{ status }', (status) => ({ status })],
    [
      '{ statusCode } (http-errors, node http)',
      (status) => Object.assign(new Error('http error'), { statusCode: status }),
    ],
    [
      'axios { response: { status } }',
      (status) =>
        Object.assign(new Error(`Request failed with status code ${status}`), {
          name: 'AxiosError',
          code: 'ERR_BAD_RESPONSE',
          response: { status, headers: {} },
        }),
    ],
    [
      'got { response: { statusCode } }',
      (status) =>
        Object.assign(new Error(`Response code ${status}`), {
          name: 'HTTPError',
          code: 'ERR_NON_2XX_3XX_RESPONSE',
          response: { statusCode: status, headers: {} },
        }),
    ],
    [
      'ky HTTPError { response: Response }',
      (status) =>
        Object.assign(new Error('Request failed'), {
          name: 'HTTPError',
          response: new Response(null, { status }),
        }),
    ],
    [
      'undici ResponseStatusCodeError',
      (status) =>
        Object.assign(new Error(`Response status code ${status}`), {
          name: 'ResponseStatusCodeError',
          code: 'UND_ERR_RESPONSE_STATUS_CODE',
          status,
          statusCode: status,
          headers: {},
        }),
    ],
  ];

  for (const [shapeName, make] of shapes) {
    it.each(statuses)(`${shapeName}: %i → %s`, (status, category) => {
      const error = make(status);
      const fault = classify(error);
      expect(fault.category).toBe(category);
      expect(fault.status).toBe(status);
      expect(fault.source).toBe('http');
      expect(fault.cause).toBe(error);
    });
  }

  it('403 is item-level "forbidden", not bad credentials: skipped, with its own advice', () => {
    const fault = classify({ status: 403 });
    expect(fault.category).toBe('permanent');
    expect(fault.retryable).toBe(false);
    expect(fault.suggestions[0]).toMatch(/forbidden/);
  });

  it('non-error statuses and nonsense are not HTTP faults', () => {
    for (const status of [200, 302, 399, 600, -1, 503.5, Number.NaN, '503']) {
      expect(classify({ status }).category).toBe('unknown');
    }
  });

  it('a message is made from status and statusText when the error has none', () => {
    expect(
      classify(new Response(null, { status: 503, statusText: 'Service Unavailable' })).message,
    ).toBe('HTTP 503 Service Unavailable');
    expect(classify({ status: 502 }).message).toBe('HTTP 502');
  });
});

describe('Retry-After', () => {
  const at = (ms: number) => new Date(NOW + ms).toUTCString();
  const cases: [string, Record<string, string | number | string[]>, number | undefined][] = [
    ['delta-seconds', { 'retry-after': '120' }, 120_000],
    ['zero seconds', { 'retry-after': '0' }, 0],
    ['fractional seconds', { 'retry-after': '1.5' }, 1500],
    ['padded delta', { 'retry-after': '  30 ' }, 30_000],
    ['HTTP-date in the future', { 'retry-after': at(90_000) }, 90_000],
    ['HTTP-date in the past → 0', { 'retry-after': at(-90_000) }, 0],
    ['retry-after-ms', { 'retry-after-ms': '250' }, 250],
    ['retry-after-ms wins over retry-after', { 'retry-after-ms': '250', 'retry-after': '9' }, 250],
    ['x-amz-retry-after (ms)', { 'x-amz-retry-after': '3000' }, 3000],
    ['canonical header case', { 'Retry-After': '4' }, 4000],
    ['array value (node http)', { 'retry-after': ['6'] }, 6000],
    ['number value', { 'retry-after': 7 }, 7000],
    ['malformed: words', { 'retry-after': 'soon' }, undefined],
    ['malformed: negative', { 'retry-after': '-5' }, undefined],
    ['malformed: empty', { 'retry-after': '' }, undefined],
    ['malformed: exponent', { 'retry-after': '1e3' }, undefined],
    ['malformed: Infinity', { 'retry-after': 'Infinity' }, undefined],
    ['malformed: NaN', { 'retry-after': 'NaN' }, undefined],
    ['malformed: bad date', { 'retry-after': 'Mon, 99 Foo 2020 99:99:99 GMT' }, undefined],
    ['malformed: words V8 would read as a date', { 'retry-after': 'soon 2' }, undefined],
    ['malformed: a bare day and month', { 'retry-after': '1 Jan' }, undefined],
    ['RFC 850 date', { 'retry-after': 'Tuesday, 15-Jan-30 10:01:00 GMT' }, 60_000],
    [
      'asctime date (GMT whatever the local zone)',
      { 'retry-after': 'Tue Jan 15 10:02:00 2030' },
      120_000,
    ],
    ['ISO 8601 date', { 'retry-after': '2030-01-15T10:00:30Z' }, 30_000],
    [
      'malformed retry-after-ms falls back to retry-after',
      { 'retry-after-ms': 'x', 'retry-after': '2' },
      2000,
    ],
    ['malformed x-amz-retry-after ignored', { 'x-amz-retry-after': '-1' }, undefined],
  ];

  it.each(cases)('%s', (_label, headers, expected) => {
    // As a plain header object (axios, got), as fetch Headers, and on a thrown Response.
    expect(classifyAt({ status: 429, headers }).retryAfterMs).toBe(expected);
    expect(classifyAt({ response: { status: 503, headers } }).retryAfterMs).toBe(expected);
    const fetchHeaders = new Headers();
    for (const [k, v] of Object.entries(headers))
      fetchHeaders.set(k, Array.isArray(v) ? v.join(', ') : String(v));
    expect(
      classifyAt(new Response(null, { status: 429, headers: fetchHeaders })).retryAfterMs,
    ).toBe(expected);
  });

  it('parseRetryAfter and retryAfterFromHeaders never throw on hostile input', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('no');
        },
      },
    );
    expect(() => retryAfterFromHeaders(null, NOW)).not.toThrow();
    expect(classify({ status: 429, headers: hostile }).category).toBe('rate_limit');
    expect(parseRetryAfter('   ', NOW)).toBeUndefined();
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.UTC(2015, 9, 21, 7, 27, 0))).toBe(
      60_000,
    );
  });
});

describe('Node errno codes', () => {
  const table: [string, FaultCategory][] = [
    ...(
      [
        'ECONNRESET',
        'ECONNREFUSED',
        'ECONNABORTED',
        'EPIPE',
        'EHOSTUNREACH',
        'ENETUNREACH',
        'ENOTFOUND',
        'EAI_AGAIN',
      ] as const
    ).map((c) => [c, 'network'] as [string, FaultCategory]),
    ...(
      [
        'ETIMEDOUT',
        'UND_ERR_CONNECT_TIMEOUT',
        'UND_ERR_HEADERS_TIMEOUT',
        'UND_ERR_BODY_TIMEOUT',
      ] as const
    ).map((c) => [c, 'timeout'] as [string, FaultCategory]),
    ...(['ENOSPC', 'ENOMEM', 'EMFILE', 'ENFILE', 'EDQUOT'] as const).map(
      (c) => [c, 'resource'] as [string, FaultCategory],
    ),
    ...(['EACCES', 'EPERM', 'ENOENT', 'EISDIR'] as const).map(
      (c) => [c, 'permanent'] as [string, FaultCategory],
    ),
  ];

  it.each(table)(
    '%s → %s, directly, as the cause of fetch failed, and inside an AggregateError',
    (code, category) => {
      const direct = errnoError(code);
      expect(classify(direct)).toMatchObject({ category, code, source: 'errno' });
      const viaFetch = new TypeError('fetch failed', { cause: direct });
      const fault = classify(viaFetch);
      expect(fault).toMatchObject({ category, code });
      expect(fault.cause).toBe(viaFetch);
      expect(fault.message).toBe(`fetch failed: ${code} happened`);
      const aggregate = new AggregateError(
        [new Error('first address failed'), direct],
        'all addresses failed',
      );
      expect(classify(aggregate)).toMatchObject({ category, code });
    },
  );

  it('undici timeout error classes (by code)', () => {
    const headers = Object.assign(new Error('Headers Timeout Error'), {
      name: 'HeadersTimeoutError',
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    const connect = Object.assign(new Error('Connect Timeout Error'), {
      name: 'ConnectTimeoutError',
      code: 'UND_ERR_CONNECT_TIMEOUT',
    });
    const body = Object.assign(new Error('Body Timeout Error'), {
      name: 'BodyTimeoutError',
      code: 'UND_ERR_BODY_TIMEOUT',
    });
    for (const e of [headers, connect, body]) {
      expect(classify(new TypeError('fetch failed', { cause: e })).category).toBe('timeout');
    }
  });

  it('cause chains are followed but bounded and cycle-safe', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(classify(a).category).toBe('unknown');
    let deep: Error = errnoError('ECONNRESET');
    for (let i = 0; i < 100; i++) deep = new Error(`wrap ${i}`, { cause: deep });
    // Deeper than the bound: not followed to the bottom, and it does not hang or throw.
    expect(classify(deep).category).toBe('unknown');
    let shallow: Error = errnoError('ECONNRESET');
    for (let i = 0; i < 5; i++) shallow = new Error(`wrap ${i}`, { cause: shallow });
    expect(classify(shallow).category).toBe('network');
  });
});

describe('abort and timeout', () => {
  it.each([
    ['DOMException AbortError', new DOMException('aborted', 'AbortError'), 'cancelled'],
    ['AbortSignal.abort() reason', AbortSignal.abort().reason, 'cancelled'],
    [
      'DOMException TimeoutError (AbortSignal.timeout)',
      new DOMException('timed out', 'TimeoutError'),
      'timeout',
    ],
    [
      'an Error named AbortError',
      Object.assign(new Error('x'), { name: 'AbortError' }),
      'cancelled',
    ],
    ['faultline TimeoutError', new TimeoutError(500), 'timeout'],
  ] as const)('%s → %s', (_label, error, category) => {
    expect(classify(error).category).toBe(category);
  });

  it('cancelled is not retryable, timeout is', () => {
    expect(classify(AbortSignal.abort().reason).retryable).toBe(false);
    expect(classify(new DOMException('t', 'TimeoutError')).retryable).toBe(true);
  });
});

describe('Redis (ioredis ReplyError, node-redis ErrorReply)', () => {
  /** node-redis defines its errors without setting `name`: only the constructor tells them apart. */
  class ErrorReply extends Error {}
  class ConnectionTimeoutError extends Error {}
  class SocketClosedUnexpectedlyError extends Error {}
  class ClientClosedError extends Error {}

  const replies: [string, FaultCategory, string][] = [
    ['LOADING Redis is loading the dataset in memory', 'unavailable', 'LOADING'],
    [
      'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
      'unavailable',
      'BUSY',
    ],
    ['TRYAGAIN Multiple keys request during rehashing of slot', 'unavailable', 'TRYAGAIN'],
    ['CLUSTERDOWN The cluster is down', 'unavailable', 'CLUSTERDOWN'],
    [
      'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no.',
      'unavailable',
      'MASTERDOWN',
    ],
    ["READONLY You can't write against a read only replica.", 'unavailable', 'READONLY'],
    ["OOM command not allowed when used memory > 'maxmemory'.", 'resource', 'OOM'],
    ['NOAUTH Authentication required.', 'auth', 'NOAUTH'],
    ['WRONGPASS invalid username-password pair or user is disabled.', 'auth', 'WRONGPASS'],
  ];

  it.each(replies)('%s → %s', (message, category, code) => {
    expect(classify(new ReplyError(message))).toMatchObject({ category, code, source: 'redis' });
    expect(classify(new ErrorReply(message))).toMatchObject({ category, code });
  });

  it('connection errors → network (ioredis and node-redis)', () => {
    const maxRetries = Object.assign(new Error('Reached the max retries per request limit'), {
      name: 'MaxRetriesPerRequestError',
    });
    for (const error of [
      maxRetries,
      new Error('Connection is closed.'),
      new ConnectionTimeoutError('Connection timeout'),
      new SocketClosedUnexpectedlyError('Socket closed unexpectedly'),
      new ClientClosedError('The client is closed'),
      errnoError('ECONNREFUSED'),
    ]) {
      expect(classify(error).category).toBe('network');
    }
  });

  it('an ordinary error whose message starts with a Redis word is not mistaken for a reply', () => {
    expect(classify(new Error('LOADING the page failed')).category).toBe('unknown');
  });

  it('specific suggestions for OOM, NOAUTH and READONLY', () => {
    expect(classify(new ReplyError('OOM command not allowed')).suggestions[0]).toMatch(/maxmemory/);
    expect(classify(new ReplyError('NOAUTH Authentication required.')).suggestions[0]).toMatch(
      /password/,
    );
    expect(classify(new ReplyError("READONLY You can't write")).suggestions[0]).toMatch(/primary/);
  });
});

describe('PostgreSQL SQLSTATE', () => {
  /** node-postgres' DatabaseError: name 'error', severity, a five-character code. */
  const pg = (code: string) =>
    Object.assign(new Error(`pg error ${code}`), {
      name: 'error',
      length: 100,
      severity: 'ERROR',
      code,
      file: 'postgres.c',
      routine: 'x',
    });
  /** postgres.js' PostgresError. */
  const postgresJs = (code: string) =>
    Object.assign(new Error(`pg error ${code}`), {
      name: 'PostgresError',
      severity_local: 'ERROR',
      code,
    });

  const table: [string, FaultCategory][] = [
    ['08000', 'network'],
    ['08003', 'network'],
    ['08006', 'network'],
    ['08001', 'network'],
    ['08P01', 'network'],
    ['40001', 'conflict'],
    ['40P01', 'conflict'],
    ['53000', 'resource'],
    ['53100', 'resource'],
    ['53200', 'resource'],
    ['53300', 'resource'],
    ['57P01', 'unavailable'],
    ['57P02', 'unavailable'],
    ['57P03', 'unavailable'],
    ['28000', 'auth'],
    ['28P01', 'auth'],
    ['22001', 'validation'],
    ['22P02', 'validation'],
    ['22003', 'validation'],
    ['23505', 'validation'],
    ['23503', 'validation'],
    ['23502', 'validation'],
    ['42601', 'permanent'],
    ['42P01', 'permanent'],
    ['42703', 'permanent'],
    ['42501', 'permanent'],
  ];

  it.each(table)('%s → %s', (code, category) => {
    expect(classify(pg(code))).toMatchObject({ category, code, source: 'postgres' });
    expect(classify(postgresJs(code))).toMatchObject({ category, code });
  });

  it('a five-character code on an error that is not from PostgreSQL is not claimed', () => {
    expect(classify(Object.assign(new Error('x'), { code: '40001' })).category).toBe('unknown');
  });

  it('serialization failure and deadlock have specific advice', () => {
    expect(classify(pg('40001')).suggestions[0]).toMatch(/serialization/);
    expect(classify(pg('40P01')).suggestions[0]).toMatch(/deadlock/);
  });
});

describe('SQLite (better-sqlite3 SqliteError)', () => {
  const table: [string, FaultCategory][] = [
    ['SQLITE_BUSY', 'conflict'],
    ['SQLITE_BUSY_SNAPSHOT', 'conflict'],
    ['SQLITE_BUSY_TIMEOUT', 'conflict'],
    ['SQLITE_LOCKED', 'conflict'],
    ['SQLITE_LOCKED_SHAREDCACHE', 'conflict'],
    ['SQLITE_FULL', 'resource'],
    ['SQLITE_CONSTRAINT', 'validation'],
    ['SQLITE_CONSTRAINT_UNIQUE', 'validation'],
    ['SQLITE_CONSTRAINT_PRIMARYKEY', 'validation'],
    ['SQLITE_CONSTRAINT_FOREIGNKEY', 'validation'],
    ['SQLITE_CONSTRAINT_CHECK', 'validation'],
    ['SQLITE_CONSTRAINT_NOTNULL', 'validation'],
    ['SQLITE_CORRUPT', 'resource'],
    ['SQLITE_NOTADB', 'resource'],
  ];

  it.each(table)('%s → %s', (code, category) => {
    expect(classify(new Database.SqliteError(`sqlite says ${code}`, code))).toMatchObject({
      category,
      code,
      source: 'sqlite',
    });
  });

  it('FULL and CORRUPT carry specific advice', () => {
    expect(
      classify(new Database.SqliteError('database or disk is full', 'SQLITE_FULL')).suggestions[0],
    ).toMatch(/disk space/);
    expect(
      classify(new Database.SqliteError('database disk image is malformed', 'SQLITE_CORRUPT'))
        .suggestions[0],
    ).toMatch(/backup/);
  });
});

describe('AWS SDK v3', () => {
  const aws = (name: string, httpStatusCode: number, extra: Record<string, unknown> = {}) =>
    Object.assign(
      new S3ServiceException({
        name,
        $fault: httpStatusCode >= 500 ? 'server' : 'client',
        $metadata: { httpStatusCode },
        message: `${name} happened`,
      }),
      extra,
    );

  const names: [string, number, FaultCategory][] = [
    ['Throttling', 400, 'rate_limit'],
    ['ThrottlingException', 400, 'rate_limit'],
    ['TooManyRequestsException', 429, 'rate_limit'],
    ['RequestLimitExceeded', 503, 'rate_limit'],
    ['SlowDown', 503, 'rate_limit'],
    ['ProvisionedThroughputExceededException', 400, 'rate_limit'],
    ['ExpiredToken', 400, 'auth'],
    ['ExpiredTokenException', 400, 'auth'],
    ['InvalidAccessKeyId', 403, 'auth'],
    ['SignatureDoesNotMatch', 403, 'auth'],
    ['InvalidClientTokenId', 403, 'auth'],
    ['UnrecognizedClientException', 400, 'auth'],
    ['NoSuchKey', 404, 'permanent'],
    ['NoSuchBucket', 404, 'permanent'],
    ['RequestTimeout', 400, 'timeout'],
    ['InternalError', 500, 'unavailable'],
    ['ServiceUnavailable', 503, 'unavailable'],
  ];

  it.each(names)('%s (HTTP %i) → %s, by name over status', (name, status, category) => {
    expect(classify(aws(name, status))).toMatchObject({
      category,
      code: name,
      status,
      source: 'aws',
    });
  });

  it('the SDK exception classes NoSuchKey and NoSuchBucket → permanent', () => {
    expect(
      classify(
        new NoSuchKey({
          $metadata: { httpStatusCode: 404 },
          message: 'The specified key does not exist.',
        }),
      ),
    ).toMatchObject({
      category: 'permanent',
      code: 'NoSuchKey',
    });
    expect(
      classify(new NoSuchBucket({ $metadata: { httpStatusCode: 404 }, message: 'no bucket' }))
        .category,
    ).toBe('permanent');
  });

  it('$retryable: throttling → rate_limit; otherwise retryable unavailable', () => {
    expect(
      classify(aws('SomeNewThrottle', 400, { $retryable: { throttling: true } })),
    ).toMatchObject({ category: 'rate_limit', retryable: true });
    expect(classify(aws('SomeNewTransient', 400, { $retryable: {} }))).toMatchObject({
      category: 'unavailable',
      retryable: true,
    });
  });

  it('an unknown name falls back to $metadata.httpStatusCode, then $fault', () => {
    expect(classify(aws('WeirdError', 429)).category).toBe('rate_limit');
    expect(classify(aws('WeirdError', 503)).category).toBe('unavailable');
    expect(classify(aws('WeirdError', 401)).category).toBe('auth');
    const serverFault = Object.assign(new Error('x'), {
      name: 'WeirdError',
      $fault: 'server',
      $metadata: {},
    });
    expect(classify(serverFault).category).toBe('unavailable');
  });

  it('x-amz-retry-after and Retry-After on $response', () => {
    const throttled = aws('ThrottlingException', 400, {
      $response: { statusCode: 400, headers: { 'x-amz-retry-after': '1200' } },
    });
    expect(classify(throttled).retryAfterMs).toBe(1200);
    const slow = aws('SlowDown', 503, {
      $response: { statusCode: 503, headers: { 'retry-after': '3' } },
    });
    expect(classify(slow).retryAfterMs).toBe(3000);
  });

  it('a nonsense $metadata.httpStatusCode is not reported as a status', () => {
    for (const httpStatusCode of [-5e-324, 503.5, 99_999, Number.NaN]) {
      const fault = classify(
        Object.assign(new Error('x'), { name: 'SlowDown', $metadata: { httpStatusCode } }),
      );
      expect(fault.category).toBe('rate_limit');
      expect(fault.status).toBeUndefined();
    }
  });

  it('a network error the SDK decorated with $metadata is still classified by its errno', () => {
    const error = Object.assign(errnoError('ECONNRESET'), {
      $metadata: { attempts: 3, totalRetryDelay: 600 },
    });
    expect(classify(error)).toMatchObject({ category: 'network', code: 'ECONNRESET' });
  });
});

describe('user classifiers and declared categories', () => {
  it('user classifiers run first, as functions or objects', () => {
    const quota = (e: unknown) =>
      typeof e === 'object' && e !== null && (e as { status?: unknown }).status === 503
        ? { category: 'rate_limit' as const, retryAfterMs: 60_000 }
        : undefined;
    const byObject = { name: 'quota', classify: quota };
    for (const classifier of [quota, byObject]) {
      const fault = createClassifier({ classifiers: [classifier] })({ status: 503 });
      expect(fault).toMatchObject({ category: 'rate_limit', retryAfterMs: 60_000 });
    }
    expect(createClassifier({ classifiers: [byObject] })({ status: 503 }).source).toBe('quota');
    // Values the user's classifier does not recognise go to the built-ins.
    expect(createClassifier({ classifiers: [quota] })({ status: 502 }).category).toBe(
      'unavailable',
    );
  });

  it('a user classifier that throws or answers nonsense is passed over', () => {
    const throws = () => {
      throw new Error('bug in classifier');
    };
    const nonsense = () => ({ category: 'not-a-category' });
    const nothing = () => null;
    const classify2 = createClassifier({
      classifiers: [throws, nonsense as never, nothing as never],
    });
    expect(classify2(errnoError('ECONNRESET')).category).toBe('network');
  });

  it('user suggestions replace the defaults; invalid ones are ignored', () => {
    const own = createClassifier({
      classifiers: [() => ({ category: 'auth', suggestions: ['Rotate the key in vault.'] })],
    });
    expect(own('x').suggestions).toEqual(['Rotate the key in vault.']);
    const bad = createClassifier({
      classifiers: [() => ({ category: 'auth', suggestions: [1, 2] as never })],
    });
    expect(bad('x').suggestions).toEqual(suggestionsFor('auth'));
  });

  it('a classifiers option that is not a classifier is a ConfigError naming it', () => {
    expect(() => createClassifier({ classifiers: [42 as never] })).toThrow(ConfigError);
    try {
      createClassifier({ classifiers: [42 as never] });
    } catch (error) {
      expect(error).toMatchObject({ option: 'classifiers[0]', value: 42 });
      expect((error as Error).message).toMatch(/classifiers\[0\].*42/);
    }
  });

  it.each([
    ['options that are not an object', () => createClassifier(null as never), 'options'],
    [
      'classifiers that is not an array',
      () => createClassifier({ classifiers: (() => undefined) as never }),
      'classifiers',
    ],
    [
      'wallTime that is not a function',
      () => createClassifier({ wallTime: 5 as never }),
      'wallTime',
    ],
    ['an unknown option', () => createClassifier({ clasifiers: [] } as never), 'clasifiers'],
  ])('createClassifier: %s is a ConfigError naming %s', (_label, build, option) => {
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(new RegExp(`Invalid option ${option}:`));
  });

  it('an error that declares its own category is taken at its word', () => {
    const declared = Object.assign(new Error('quota used up'), {
      category: 'rate_limit',
      retryAfterMs: 60_000,
      status: 503,
    });
    expect(classify(declared)).toMatchObject({
      category: 'rate_limit',
      retryAfterMs: 60_000,
      status: 503,
      source: 'declared',
    });
    const notRetryable = Object.assign(new Error('x'), { category: 'network', retryable: false });
    expect(classify(notRetryable)).toMatchObject({ category: 'network', retryable: false });
    // An invalid declaration is ignored, and the rest of the chain decides.
    expect(classify(Object.assign(errnoError('ENOSPC'), { category: 'nope' })).category).toBe(
      'resource',
    );
  });
});

describe('typed library errors', () => {
  it('BrokenCircuitError → unavailable, retryable, with its retry-after', () => {
    expect(classify(new BrokenCircuitError(undefined, { retryAfterMs: 5000 }))).toMatchObject({
      category: 'unavailable',
      retryable: true,
      retryAfterMs: 5000,
    });
  });

  it('BulkheadRejectedError → unavailable, retryable', () => {
    const error = new BulkheadRejectedError(4, 10);
    expect(classify(error)).toMatchObject({ category: 'unavailable', retryable: true });
    expect(error.message).toMatch(/4 running, 10 queued/);
  });

  it('RateLimitedError → rate_limit with retryAfterMs', () => {
    expect(classify(new RateLimitedError(250))).toMatchObject({
      category: 'rate_limit',
      retryAfterMs: 250,
    });
  });

  it('TimeoutError → timeout, and names its deadline', () => {
    const error = new TimeoutError(1500);
    expect(error.timeoutMs).toBe(1500);
    expect(error.name).toBe('TimeoutError');
    expect(classify(error)).toMatchObject({ category: 'timeout', retryable: true });
  });

  it('RetriesExhaustedError keeps attempts, last fault and cause; same category, not retryable', () => {
    const last = classify(errnoError('ECONNRESET'));
    const error = new RetriesExhaustedError(5, 15_000, last);
    expect(error).toMatchObject({
      attempts: 5,
      lastFault: last,
      cause: last.cause,
      name: 'RetriesExhaustedError',
    });
    expect(error.message).toMatch(/5 attempts.*ECONNRESET/);
    expect(classify(error)).toMatchObject({ category: 'network', retryable: false });
  });

  it('ConfigError names the option and value → validation, not retryable', () => {
    const error = new ConfigError('maxAttempts', -1, 'a whole number >= 1');
    expect(error).toMatchObject({ option: 'maxAttempts', value: -1 });
    expect(error.message).toBe('Invalid option maxAttempts: -1 (expected a whole number >= 1)');
    expect(classify(error)).toMatchObject({ category: 'validation', retryable: false });
  });
});

describe('any thrown value', () => {
  it.each([
    ['a string', 'boom', 'boom'],
    ['a number', 42, '42'],
    ['null', null, 'null was thrown'],
    ['undefined', undefined, 'undefined was thrown'],
    ['a plain object', { foo: 1 }, '[object Object]'],
    ['a symbol', Symbol('s'), 'Symbol(s)'],
    ['a bigint', 10n, '10'],
  ] as const)('%s → unknown with a message', (_label, value, message) => {
    const fault = classify(value);
    expect(fault).toMatchObject({ category: 'unknown', retryable: true, message, source: 'none' });
    expect(fault.cause).toBe(value);
  });

  it('an object whose getters throw, and proxies that refuse everything, classify as unknown', () => {
    const getters = Object.defineProperties(
      {},
      Object.fromEntries(
        [
          'name',
          'message',
          'code',
          'status',
          'cause',
          'errors',
          'category',
          'response',
          '$metadata',
          'constructor',
        ].map((k) => [
          k,
          {
            get() {
              throw new Error(`getter ${k}`);
            },
          },
        ]),
      ),
    );
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('get');
        },
        getPrototypeOf() {
          throw new Error('proto');
        },
        has() {
          throw new Error('has');
        },
      },
    );
    for (const value of [getters, proxy, hostile]) {
      const fault = classify(value);
      expect(fault.category).toBe('unknown');
      expect(typeof fault.message).toBe('string');
    }
  });

  it('a fault classified again is kept as it is', () => {
    const fault = classify(errnoError('EPIPE'));
    expect(isFault(fault)).toBe(true);
    expect(classify(fault)).toBe(fault);
    expect(isFault({ category: 'network' })).toBe(false);
  });

  it('a fault serialises to JSON without undefined fields', () => {
    const json = JSON.parse(JSON.stringify(classify('plain')));
    expect(Object.keys(json).sort()).toEqual([
      'category',
      'cause',
      'message',
      'retryable',
      'source',
      'suggestions',
    ]);
  });
});

describe('suggestions', () => {
  it('every category has at least one', () => {
    for (const category of FAULT_CATEGORIES)
      expect(suggestionsFor(category).length).toBeGreaterThan(0);
  });

  it.each([
    ['network', undefined, /connectivity/],
    ['network', undefined, /proxy/i],
    ['auth', undefined, /credentials/],
    ['rate_limit', undefined, /rate|quota/],
    ['resource', 'ENOSPC', /Free disk space/],
    ['resource', 'EMFILE', /ulimit/],
    ['network', 'ENOTFOUND', /DNS/],
    ['network', 'ECONNREFUSED', /listening/],
  ] as const)('%s / %s mentions %s', (category, code, pattern) => {
    expect(suggestionsFor(category, code).join(' ')).toMatch(pattern);
  });

  it('specific advice comes first, then the category advice', () => {
    const list = suggestionsFor('resource', 'ENOSPC');
    expect(list[0]).toMatch(/disk space/);
    expect(list.slice(1)).toEqual(suggestionsFor('resource'));
    expect(classify(errnoError('ENOSPC')).suggestions).toEqual(list);
  });
});

describe('advice per code and per status', () => {
  it.each([
    [errnoError('ETIMEDOUT'), /timed out/],
    [errnoError('EHOSTUNREACH'), /route/],
    [
      new Database.SqliteError('UNIQUE constraint failed: t.v', 'SQLITE_CONSTRAINT_UNIQUE'),
      /idempotency key/,
    ],
    [new ReplyError('BUSY Redis is busy running a script'), /SLOWLOG/],
    [
      Object.assign(new Error('too many clients'), {
        name: 'error',
        severity: 'FATAL',
        code: '53300',
      }),
      /max_connections/,
    ],
    [
      new S3ServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
      /service quota/,
    ],
    [{ status: 401 }, /token or API key/],
    [{ status: 429 }, /lower the request rate/],
    [{ status: 503 }, /overloaded/],
  ] as const)('%#: the specific advice comes first', (error, pattern) => {
    const fault = classify(error);
    expect(fault.suggestions[0]).toMatch(pattern);
    expect(fault.suggestions.length).toBeGreaterThan(1);
  });
});
