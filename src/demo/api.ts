import { type FlakyRequest, FlakyServer, type FlakyStep } from '../testing/flaky-server.js';

/**
 * The crawler's upstream: a local items API (`GET /items/:id`) that misbehaves on a fixed,
 * reproducible schedule, so every recovery path of the crawler is exercised on every run:
 *
 * - per item, always: some ids are gone (404 → skipped), some records are invalid (200 with a
 *   body missing fields → skipped as validation);
 * - per item, first attempt only: connection resets, 503s and hangs that only a timeout ends
 *   (retried at 1 s, then 2 s ...);
 * - globally, by request number: bursts of 503 (they open the circuit breaker) and 429 whose
 *   `x-rate-limit-reset` says when the window opens (epoch seconds, as the system's API sends;
 *   the whole queue pauses until then);
 * - optionally, a credential-expiry episode (every answer 401 from some request on: the crawl
 *   aborts), an outage (every connection reset from some request on: an item's 5 network
 *   retries run out and the crawl aborts with its checkpoint), and items that never connect.
 */

export interface ItemsApiSchedule {
  /** Ids divisible by this are 404 (default 97). */
  readonly goneEvery: number;
  /** Ids divisible by this return an invalid record (default 89). */
  readonly invalidEvery: number;
  /** Ids divisible by this reset the connection on every attempt (default 0 = none: one would abort the crawl). */
  readonly brokenEvery: number;
  /** First attempts of ids ≡ 1 (mod this) are reset (default 13). */
  readonly resetEvery: number;
  /** First attempts of ids ≡ 2 (mod this) hang until the client's timeout (default 29). */
  readonly hangEvery: number;
  /** First attempts of ids ≡ 3 (mod this) answer 503 (default 17). */
  readonly unavailableEvery: number;
  /** Every this many requests, a burst of 503s starts (default 300; 0 = never). */
  readonly burstEvery: number;
  /** Requests per 503 burst (default 15: 10 open the circuit, the rest meet its probes). */
  readonly burstLength: number;
  /** Every this many requests, one answer is 429 (default 200; 0 = never). */
  readonly rateLimitEvery: number;
  /** The 429 announces the window's reset this many seconds ahead (default 1; the epoch second is rounded up). */
  readonly retryAfterSeconds: number;
  /**
   * How the 429 says when to come back: `reset` (`x-rate-limit-reset`, epoch seconds, the
   * default), `retry-after`, or `none` (then the crawler's plan pauses 15 minutes, scaled).
   */
  readonly rateLimitHeader: 'reset' | 'retry-after' | 'none';
  /** From this request number on, every answer is 401 (default: never). */
  readonly credentialsExpireAt: number | undefined;
  /** From this request number on, every connection is reset: an outage (default: never). */
  readonly outageAt: number | undefined;
  /** Latency of every answer, ms (default 0). */
  readonly latencyMs: number;
}

export const DEFAULT_SCHEDULE: ItemsApiSchedule = Object.freeze({
  goneEvery: 97,
  invalidEvery: 89,
  brokenEvery: 0,
  resetEvery: 13,
  hangEvery: 29,
  unavailableEvery: 17,
  burstEvery: 300,
  burstLength: 15,
  rateLimitEvery: 200,
  retryAfterSeconds: 1,
  rateLimitHeader: 'reset',
  credentialsExpireAt: undefined,
  outageAt: undefined,
  latencyMs: 0,
});

/**
 * The crawler says which attempt of an item a request is (the job's attempt, kept across runs),
 * so "first attempt only" faults stay first-attempt faults after a resume; without it the API counts.
 */
export const ATTEMPT_HEADER = 'x-crawl-attempt';

/** The token the API accepts; the crawler sends it as `Authorization: Bearer <token>`. */
export const API_TOKEN = 'demo-token';

export interface ItemsApi {
  readonly url: string;
  readonly server: FlakyServer;
  /** Requests answered so far. */
  readonly requestCount: () => number;
  close(): Promise<void>;
}

/** What an item looks like when it is valid. */
export interface ItemRecord {
  readonly id: number;
  readonly title: string;
  readonly url: string;
}

export async function startItemsApi(overrides: Partial<ItemsApiSchedule> = {}): Promise<ItemsApi> {
  const schedule: ItemsApiSchedule = { ...DEFAULT_SCHEDULE, ...overrides };
  const attempts = new Map<number, number>();
  const answer = (request: FlakyRequest): FlakyStep => {
    const step = decide(schedule, request, attempts);
    if (schedule.latencyMs <= 0) return step;
    if (typeof step === 'number') return { status: step, delayMs: schedule.latencyMs };
    if (typeof step === 'string')
      return step === 'hang' ? step : { fault: step, delayMs: schedule.latencyMs };
    return { ...step, delayMs: schedule.latencyMs };
  };
  const server = await FlakyServer.start({ fallback: answer });
  return {
    url: server.url,
    server,
    requestCount: () => server.requests.length,
    close: () => server.close(),
  };
}

function decide(
  s: ItemsApiSchedule,
  request: FlakyRequest,
  attempts: Map<number, number>,
): FlakyStep {
  const n = request.n;
  if (s.outageAt !== undefined && n >= s.outageAt) return 'reset';
  if (s.credentialsExpireAt !== undefined && n >= s.credentialsExpireAt) {
    return {
      status: 401,
      body: { error: 'token expired' },
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    };
  }
  if (request.headers.authorization !== `Bearer ${API_TOKEN}`)
    return { status: 401, body: { error: 'missing or wrong token' } };
  const match = /^\/items\/(\d+)$/.exec(request.path);
  if (!match) return 404;
  const id = Number(match[1]);
  const counted = (attempts.get(id) ?? 0) + 1;
  attempts.set(id, counted);
  const told = Number(request.headers[ATTEMPT_HEADER]);
  const attempt = Number.isSafeInteger(told) && told >= 1 ? told : counted;

  if (s.burstEvery > 0 && n % s.burstEvery < s.burstLength && n >= s.burstEvery) return 503;
  if (s.rateLimitEvery > 0 && n % s.rateLimitEvery === 0) return rateLimited(s);
  if (id % s.goneEvery === 0) return 404;
  if (s.brokenEvery > 0 && id % s.brokenEvery === 0) return 'reset';
  if (attempt === 1) {
    if (id % s.resetEvery === 1) return 'reset';
    if (id % s.hangEvery === 2) return 'hang';
    if (id % s.unavailableEvery === 3) return 503;
  }
  if (id % s.invalidEvery === 0) return { status: 200, body: { id } };
  return {
    status: 200,
    body: { id, title: `Item ${id}`, url: `https://example.org/items/${id}` } satisfies ItemRecord,
  };
}

function rateLimited(s: ItemsApiSchedule): FlakyStep {
  const body = { error: 'Rate limit exceeded' };
  switch (s.rateLimitHeader) {
    case 'retry-after':
      return { status: 429, retryAfter: s.retryAfterSeconds, body };
    case 'none':
      return { status: 429, body };
    case 'reset': {
      // The window opens at a whole epoch second at least retryAfterSeconds from now.
      const reset = Math.ceil(Date.now() / 1000) + s.retryAfterSeconds;
      return {
        status: 429,
        headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) },
        body,
      };
    }
  }
}
