import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { scoped } from '../validate/scoped.js';
import { Events } from '../observe/events.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
import { asyncDispose } from '../dispose/async-dispose.js';

/** Every option error names the option from `flakyServer`. */
const check = scoped('flakyServer');

/**
 * A scripted, misbehaving HTTP server on 127.0.0.1 for tests and demos. Each route has a
 * script: the next request gets the next step. A step is a status code (`503`), a fault
 * (`'reset'`, `'hang'`), or a full response description. When a route's script is used up,
 * its default answers (or the server's fallback, `200 {"ok":true}`).
 *
 *     const server = await flakyServer({ routes: { '/status': [503, 503, 'reset', { status: 429,
 * retryAfter: 30 }] } });     await fetch(`${server.url}/status`); // 503
 * server.script('/status', times(5, 200));     await server.close();
 */

/** A full description of one answer. */
export interface FlakyResponse {
  /** HTTP status (default 200). */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string or Buffer is sent as is; anything else as JSON. Default: `{"ok":true}` or `{"error":"<status text>"}`. */
  readonly body?: unknown;
  /** Sets `Retry-After`: seconds (number) or an HTTP date (string). */
  readonly retryAfter?: number | string;
  /** Wait this long (on the server's clock) before answering. */
  readonly delayMs?: number;
  /**
   * Misbehave instead of answering: `reset` drops the connection with a TCP RST (the client
   * sees ECONNRESET), `hang` never answers (until the client gives up or the server closes),
   * `truncate` sends the headers and half of the body, then drops the connection.
   */
  readonly fault?: 'reset' | 'hang' | 'truncate';
}

/** One scripted answer: a status code, a fault, or a full response. */
export type FlakyStep = number | 'reset' | 'hang' | 'truncate' | FlakyResponse;

export interface FlakyRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** Which route answered (`*` for the fallback). */
  readonly route: string;
  /** 1 for the first request the server saw. */
  readonly n: number;
}

export interface FlakyRequestRecord extends FlakyRequest {
  /** What the server did: `503`, `reset`, `hang`, `200 (delayed 50 ms)`. */
  readonly answer: string;
}

export interface FlakyServerOptions {
  /**
   * Scripts by path: an exact path (`/status`) or a prefix ending in `*` (`/media/*`). The
   * longest matching route wins.
   * @defaultValue none: every path answers the fallback
   */
  readonly routes?: Readonly<Record<string, readonly FlakyStep[]>>;
  /**
   * Answer when no route matches or a route's script is used up.
   * @defaultValue 200 `{"ok":true}`
   */
  readonly fallback?: FlakyStep | ((request: FlakyRequest) => FlakyStep);
  /**
   * Clock for `delayMs`.
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
  /**
   * Port to listen on.
   * @defaultValue 0: any free port
   */
  readonly port?: number;
}

export interface FlakyServerEvents {
  request: FlakyRequestRecord;
}

interface Route {
  readonly steps: FlakyStep[];
  whenEmpty: FlakyStep | ((request: FlakyRequest) => FlakyStep) | undefined;
}

const FAULTS = ['reset', 'hang', 'truncate'] as const;

export class FlakyServer {
  readonly events = new Events<FlakyServerEvents>();
  /** Every request seen, in order. */
  readonly requests: FlakyRequestRecord[] = [];
  private readonly routes = new Map<string, Route>();
  private readonly sockets = new Set<Socket>();
  private readonly pendingDelays = new Set<AbortController>();
  private fallback: FlakyStep | ((request: FlakyRequest) => FlakyStep);
  private readonly clock: Clock;
  private readonly server: Server;
  private address = '';

  private constructor(options: FlakyServerOptions) {
    this.clock = options.clock ?? systemClock;
    this.fallback =
      options.fallback === undefined ? 200 : validFallback('fallback', options.fallback);
    for (const [path, steps] of Object.entries(options.routes ?? {})) this.script(path, ...steps);
    this.server = createServer((req, res) => this.answer(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Starts a server on 127.0.0.1. */
  static async start(options: FlakyServerOptions = {}): Promise<FlakyServer> {
    check.plainObject('options', options);
    check.knownKeys('flakyServer', options, ['routes', 'fallback', 'clock', 'port']);
    const port = check.nonNegativeInteger('port', options.port ?? 0);
    const server = new FlakyServer(options);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.server.listen(port, '127.0.0.1', () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    const address = server.server.address();
    if (address === null || typeof address === 'string')
      throw new Error('flaky server: no TCP address');
    server.address = `http://127.0.0.1:${address.port}`;
    return server;
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return this.address;
  }

  get port(): number {
    return Number(new URL(this.address).port);
  }

  /** Appends steps to a route's script (creating the route). */
  script(path: string, ...steps: FlakyStep[]): this {
    routeKey(path);
    for (const [i, step] of steps.entries()) validStep(`script(${path})[${i}]`, step);
    this.routeFor(path).steps.push(...steps);
    return this;
  }

  /** What a route answers once its script is used up (instead of the server's fallback). */
  respond(path: string, step: FlakyStep | ((request: FlakyRequest) => FlakyStep)): this {
    routeKey(path);
    this.routeFor(path).whenEmpty = validFallback(`respond(${path})`, step);
    return this;
  }

  /** Replaces the server-wide fallback. */
  setFallback(step: FlakyStep | ((request: FlakyRequest) => FlakyStep)): this {
    this.fallback = validFallback('fallback', step);
    return this;
  }

  /** Steps still scripted for a route. */
  remaining(path: string): number {
    return this.routes.get(path)?.steps.length ?? 0;
  }

  /** Requests to one path (without the query). */
  requestsTo(path: string): FlakyRequestRecord[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Resolves once `count` requests in total have been answered (or faulted). */
  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.events.on('request', () => {
        if (this.requests.length >= count) {
          off();
          resolve();
        }
      });
    });
  }

  /** Stops listening and drops every connection, hung ones included. */
  /** `await using` calls `close()`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    for (const controller of this.pendingDelays) controller.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await closed;
  }

  private routeFor(path: string): Route {
    let route = this.routes.get(path);
    if (route === undefined) {
      route = { steps: [], whenEmpty: undefined };
      this.routes.set(path, route);
    }
    return route;
  }

  private match(path: string): [string, Route] | undefined {
    const exact = this.routes.get(path);
    if (exact !== undefined) return [path, exact];
    let best: [string, Route] | undefined;
    for (const [key, route] of this.routes) {
      if (
        key.endsWith('*') &&
        path.startsWith(key.slice(0, -1)) &&
        (best === undefined || key.length > best[0].length)
      )
        best = [key, route];
    }
    return best;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const matched = this.match(url.pathname);
    const request: FlakyRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      route: matched?.[0] ?? '*',
      n: this.requests.length + 1,
    };
    let step: FlakyStep | ((r: FlakyRequest) => FlakyStep) | undefined = matched?.[1].steps.shift();
    step ??= matched?.[1].whenEmpty ?? this.fallback;
    const resolved =
      typeof step === 'function' ? validStep('fallback(request)', step(request)) : step;
    const response: FlakyResponse =
      typeof resolved === 'number'
        ? { status: resolved }
        : typeof resolved === 'string'
          ? { fault: resolved }
          : resolved;
    const record: FlakyRequestRecord = { ...request, answer: describe(response) };
    this.requests.push(record);
    // Drain the request body so a keep-alive connection stays usable.
    req.resume();
    if (this.events.has('request')) this.events.emit('request', record);

    if (response.delayMs !== undefined && response.delayMs > 0) {
      const controller = new AbortController();
      this.pendingDelays.add(controller);
      try {
        await this.clock.sleep(response.delayMs, controller.signal);
      } catch {
        return; // The server is closing.
      } finally {
        this.pendingDelays.delete(controller);
      }
    }
    if (response.fault === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    if (response.fault === 'hang') return;
    const status = response.status ?? 200;
    const { body, type } = encodeBody(response, status);
    const headers: Record<string, string> = {
      'content-type': type,
      'content-length': String(body.length),
      ...response.headers,
    };
    if (response.retryAfter !== undefined) headers['retry-after'] = String(response.retryAfter);
    res.writeHead(status, headers);
    if (response.fault === 'truncate') {
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => req.socket.destroy());
      return;
    }
    res.end(body);
  }
}

function encodeBody(response: FlakyResponse, status: number): { body: Buffer; type: string } {
  const value = response.body;
  if (Buffer.isBuffer(value)) return { body: value, type: 'application/octet-stream' };
  if (typeof value === 'string')
    return { body: Buffer.from(value), type: 'text/plain; charset=utf-8' };
  const json =
    value === undefined ? (status < 400 ? { ok: true } : { error: `HTTP ${status}` }) : value;
  return { body: Buffer.from(JSON.stringify(json)), type: 'application/json' };
}

function describe(response: FlakyResponse): string {
  const what = response.fault ?? String(response.status ?? 200);
  return response.delayMs ? `${what} (delayed ${response.delayMs} ms)` : what;
}

function routeKey(path: unknown): void {
  if (typeof path !== 'string' || !path.startsWith('/'))
    throw check.configError('path', path, 'a path starting with "/" (optionally ending in "*")');
}

function validFallback(
  option: string,
  step: unknown,
): FlakyStep | ((request: FlakyRequest) => FlakyStep) {
  return typeof step === 'function'
    ? (step as (request: FlakyRequest) => FlakyStep)
    : validStep(option, step);
}

function validStep(option: string, step: unknown): FlakyStep {
  if (typeof step === 'number') {
    if (!Number.isInteger(step) || step < 100 || step > 599)
      throw check.configError(option, step, 'an HTTP status from 100 to 599');
    return step;
  }
  if (typeof step === 'string') return check.oneOf(option, step, FAULTS);
  const response = check.plainObject(option, step);
  check.knownKeys(option, response, [
    'status',
    'headers',
    'body',
    'retryAfter',
    'delayMs',
    'fault',
  ]);
  if (response.status !== undefined) validStep(`${option}.status`, response.status);
  if (response.delayMs !== undefined)
    check.nonNegativeNumber(`${option}.delayMs`, response.delayMs);
  if (response.fault !== undefined) check.oneOf(`${option}.fault`, response.fault, FAULTS);
  return step as FlakyResponse;
}

/** `count` copies of a step, for scripts like `[...times(3, 503), 200]`. */
export function times(count: number, step: FlakyStep): FlakyStep[] {
  check.nonNegativeInteger('count', count);
  return Array.from({ length: count }, () => step);
}

/** Starts a FlakyServer on 127.0.0.1 (see the class). */
export function flakyServer(options?: FlakyServerOptions): Promise<FlakyServer> {
  return FlakyServer.start(options);
}
