import { type FlakyRequest, FlakyServer, type FlakyStep } from '../testing/flaky-server.js';

/**
 * The crawler's upstream: a local items API (`GET /items/:id`) that misbehaves on a fixed,
 * reproducible schedule, so every recovery path of the crawler is exercised on every run:
 *
 * - per item, always: some ids are gone (404 → skipped), some records are invalid (200 with a
 *   body missing fields → skipped as validation), a few never connect (reset every time →
 *   retried 5 times, then dead-lettered as network);
 * - per item, first attempt only: connection resets, 503s and hangs that only a timeout ends;
 * - globally, by request number: bursts of 503 (they open the circuit breaker) and 429 with
 *   `Retry-After` (the whole queue pauses);
 * - optionally, a credential-expiry episode: from some request on, every answer is 401.
 */

export interface ItemsApiSchedule {
  /** Ids divisible by this are 404 (default 97). */
  readonly goneEvery: number;
  /** Ids divisible by this return an invalid record (default 89). */
  readonly invalidEvery: number;
  /** Ids divisible by this reset the connection on every attempt (default 401). */
  readonly brokenEvery: number;
  /** First attempts of ids ≡ 1 (mod this) are reset (default 13). */
  readonly resetEvery: number;
  /** First attempts of ids ≡ 2 (mod this) hang until the client's timeout (default 29). */
  readonly hangEvery: number;
  /** First attempts of ids ≡ 3 (mod this) answer 503 (default 17). */
  readonly unavailableEvery: number;
  /** Every this many requests, a burst of 503s starts (default 800; 0 = never). */
  readonly burstEvery: number;
  /** Requests per 503 burst (default 25). */
  readonly burstLength: number;
  /** Every this many requests, one answer is 429 (default 700; 0 = never). */
  readonly rateLimitEvery: number;
  /** The 429's Retry-After in seconds (default 1). */
  readonly retryAfterSeconds: number;
  /** From this request number on, every answer is 401 (default: never). */
  readonly credentialsExpireAt: number | undefined;
  /** Latency of every answer, ms (default 0). */
  readonly latencyMs: number;
}

export const DEFAULT_SCHEDULE: ItemsApiSchedule = Object.freeze({
  goneEvery: 97,
  invalidEvery: 89,
  brokenEvery: 401,
  resetEvery: 13,
  hangEvery: 29,
  unavailableEvery: 17,
  burstEvery: 800,
  burstLength: 25,
  rateLimitEvery: 700,
  retryAfterSeconds: 1,
  credentialsExpireAt: undefined,
  latencyMs: 0,
});

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
    if (typeof step === 'string') return step === 'hang' ? step : { fault: step, delayMs: schedule.latencyMs };
    return { ...step, delayMs: schedule.latencyMs };
  };
  const server = await FlakyServer.start({ fallback: answer });
  return { url: server.url, server, requestCount: () => server.requests.length, close: () => server.close() };
}

function decide(s: ItemsApiSchedule, request: FlakyRequest, attempts: Map<number, number>): FlakyStep {
  const n = request.n;
  if (s.credentialsExpireAt !== undefined && n >= s.credentialsExpireAt) {
    return { status: 401, body: { error: 'token expired' }, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } };
  }
  if (request.headers.authorization !== `Bearer ${API_TOKEN}`) return { status: 401, body: { error: 'missing or wrong token' } };
  const match = /^\/items\/(\d+)$/.exec(request.path);
  if (!match) return 404;
  const id = Number(match[1]);
  const attempt = (attempts.get(id) ?? 0) + 1;
  attempts.set(id, attempt);

  if (s.burstEvery > 0 && n % s.burstEvery < s.burstLength && n >= s.burstEvery) return 503;
  if (s.rateLimitEvery > 0 && n % s.rateLimitEvery === 0) return { status: 429, retryAfter: s.retryAfterSeconds, body: { error: 'slow down' } };
  if (id % s.goneEvery === 0) return 404;
  if (id % s.brokenEvery === 0) return 'reset';
  if (attempt === 1) {
    if (id % s.resetEvery === 1) return 'reset';
    if (id % s.hangEvery === 2) return 'hang';
    if (id % s.unavailableEvery === 3) return 503;
  }
  if (id % s.invalidEvery === 0) return { status: 200, body: { id } };
  return { status: 200, body: { id, title: `Item ${id}`, url: `https://example.org/items/${id}` } satisfies ItemRecord };
}
