import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BulkheadRejectedError, RetriesExhaustedError } from '../../src/faults/errors.js';
import { ProxyError, StreamError, TrackNotFoundError, URLRefreshError } from './errors.js';
import { RefreshableMap } from '../../src/health/refreshable-map.js';
import { Bulkhead } from '../../src/policies/bulkhead.js';
import { RetryPolicy } from '../../src/policies/retry.js';
import { exponentialBackoff } from '../../src/recovery/backoff.js';
import type { Clock } from '../../src/time/clock.js';
import { systemClock } from '../../src/time/system-clock.js';

/**
 * The streaming proxy's core (scenario 3). `GET /stream/<track>`:
 *   1. resolve the track's expiring upstream URL through a keyed `refreshable` (refreshed ahead
 *      of expiry, the old URL served when a refresh fails);
 *   2. fetch it with retries after 1 s, 2 s, 4 s on transient failures, never on 403/404/410;
 *   3. when the upstream says the URL expired, refresh it once and try the new one;
 *   4. stream the body to the client, at most `maxStreams` at once: beyond that, 503.
 */

/** What the upstream resolver answers for `GET /resolve/<track>`. */
export interface ResolvedUrl {
  readonly url: string;
  /** Wall-clock epoch ms after which the URL stops working. */
  readonly expiresAt: number;
}

export interface StreamProxyOptions {
  /** Base of the upstream API (the resolver lives at `/resolve/<track>`). */
  readonly upstream: string;
  /** Concurrent streams; more get 503 (default 10, the system's). */
  readonly maxStreams?: number;
  /** Refresh a URL this long before it expires (default 60 s). */
  readonly refreshAheadMs?: number;
  /**
   * Keep using an expired URL this long when the resolver fails (default: indefinitely, as the
   * system does — the old URL may still play, and a failing resolver must not stop playback).
   */
  readonly staleIfErrorMs?: number;
  /** An upstream attempt that has not answered (headers) within this fails as a timeout and is retried (default 10 s). */
  readonly upstreamTimeoutMs?: number;
  /** Tracks whose URL is kept (default 1 000). */
  readonly maxTracks?: number;
  readonly clock?: Clock;
  readonly fetch?: typeof fetch;
  /** Port to listen on, on 127.0.0.1 (default 0: any free one). */
  readonly port?: number;
  readonly log?: (line: string) => void;
}

export { ProxyError, StreamError, TrackNotFoundError, URLRefreshError } from './errors.js';

export interface StreamProxy {
  readonly url: string;
  readonly urls: RefreshableMap<string, ResolvedUrl>;
  readonly retry: RetryPolicy;
  readonly bulkhead: Bulkhead;
  close(): Promise<void>;
}

export async function startStreamProxy(options: StreamProxyOptions): Promise<StreamProxy> {
  const clock = options.clock ?? systemClock;
  const fetchImpl = options.fetch ?? fetch;
  const log = options.log ?? (() => {});
  const upstream = options.upstream.replace(/\/$/, '');

  const urls = new RefreshableMap<string, ResolvedUrl>(
    async (track) => {
      const res = await fetchImpl(`${upstream}/resolve/${encodeURIComponent(track)}`);
      if (!res.ok) {
        await res.body?.cancel();
        if (res.status === 404 || res.status === 410)
          throw new TrackNotFoundError(track, res.status);
        throw new StreamError(res.status, res.headers, false);
      }
      return (await res.json()) as ResolvedUrl;
    },
    {
      expiresAt: (resolved) => resolved.expiresAt,
      refreshAheadMs: options.refreshAheadMs ?? 60_000,
      staleIfErrorMs: options.staleIfErrorMs ?? Number.POSITIVE_INFINITY,
      // While the resolver is down, ask it again at most every 5 s rather than on every request.
      failureCooldownMs: 5_000,
      maxEntries: options.maxTracks ?? 1_000,
      clock,
    },
  );
  urls.events.on('refreshFailed', (e) =>
    log(
      `resolver failed for ${e.key} (${e.fault.message})${e.servingStale ? ': keeping the old URL' : ''}`,
    ),
  );

  // 1 s, 2 s, 4 s: four attempts in all. The default plan skips permanent 4xx (403, 404, 410).
  const retry = new RetryPolicy({
    maxAttempts: 4,
    backoff: exponentialBackoff({ initialMs: 1_000, factor: 2, maxDelayMs: 4_000, jitter: 'none' }),
    clock,
  });
  retry.events.on('retry', (e) =>
    log(`upstream attempt ${e.attempt} failed (${e.fault.message}); retrying in ${e.delayMs} ms`),
  );
  const bulkhead = new Bulkhead({
    maxConcurrent: options.maxStreams ?? 10,
    maxQueued: 0,
    name: 'streams',
  });

  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 10_000;
  const fetchMedia = (url: string, signal: AbortSignal) =>
    retry.execute(
      async (context) => {
        // Each attempt gets its own deadline for the answer's headers; past them only the caller
        // (client gone, proxy closing) cuts the stream, through the same controller.
        const attempt = new AbortController();
        const onAbort = () => attempt.abort(context.signal.reason);
        context.signal.addEventListener('abort', onAbort, { once: true });
        const cancel = clock.schedule(upstreamTimeoutMs, () =>
          attempt.abort(
            new DOMException(`no answer within ${upstreamTimeoutMs} ms`, 'TimeoutError'),
          ),
        );
        let res: Response;
        try {
          res = await fetchImpl(url, { signal: attempt.signal });
        } finally {
          cancel();
        }
        if (!res.ok) {
          await res.body?.cancel();
          throw new StreamError(
            res.status,
            res.headers,
            res.status === 403 && res.headers.get('x-url-expired') === '1',
          );
        }
        return res;
      },
      { signal, operation: 'fetch_stream' },
    );

  const resolve = async (track: string): Promise<ResolvedUrl> => {
    try {
      return await urls.get(track);
    } catch (error) {
      // With an earlier URL the map serves it (stale if error); here there was none to fall back on.
      if (error instanceof TrackNotFoundError) throw error;
      throw new URLRefreshError(track, error);
    }
  };

  const serveStream = async (track: string, res: ServerResponse, signal: AbortSignal) => {
    let resolved = await resolve(track);
    let upstreamRes: Response;
    try {
      upstreamRes = await fetchMedia(resolved.url, signal);
    } catch (error) {
      if (error instanceof StreamError && (error.status === 404 || error.status === 410))
        throw new TrackNotFoundError(track, error.status);
      if (!(error instanceof StreamError && error.expired)) throw error;
      // The signed URL expired early (clock skew, revocation): resolve again and try the new one.
      urls.invalidate(track);
      const previous = resolved.url;
      resolved = await resolve(track);
      log(
        resolved.url === previous
          ? `refresh failed for ${track}: trying the old URL once more`
          : `refreshed the URL of ${track}`,
      );
      upstreamRes = await fetchMedia(resolved.url, signal);
    }
    res.writeHead(200, {
      'content-type': upstreamRes.headers.get('content-type') ?? 'application/octet-stream',
    });
    if (upstreamRes.body)
      await pipeline(
        Readable.fromWeb(upstreamRes.body as import('node:stream/web').ReadableStream),
        res,
      );
    else res.end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/stream\/([^/?]+)/.exec(req.url ?? '');
    if (!match || req.method !== 'GET')
      return reply(res, 404, 'not found: use GET /stream/<track>');
    const track = decodeURIComponent(match[1]!);
    // A client that goes away takes its upstream fetch (and retries) with it.
    const controller = new AbortController();
    res.on('close', () => controller.abort(new Error('client went away')));
    inflight.add(controller);
    try {
      await bulkhead.execute(() => serveStream(track, res, controller.signal), {
        signal: controller.signal,
      });
    } catch (error) {
      if (controller.signal.aborted || res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof BulkheadRejectedError)
        return reply(res, 503, `too many streams (${bulkhead.maxConcurrent} max)`, {
          'retry-after': '1',
        });
      if (error instanceof ProxyError) return reply(res, error.clientStatus, error.message);
      if (error instanceof RetriesExhaustedError)
        return reply(res, 502, `upstream failed: ${error.message}`);
      return reply(
        res,
        502,
        `upstream failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      inflight.delete(controller);
    }
  };

  const inflight = new Set<AbortController>();
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy: no TCP address');

  return {
    url: `http://127.0.0.1:${address.port}`,
    urls,
    retry,
    bulkhead,
    close: async () => {
      for (const controller of inflight) controller.abort(new Error('proxy closing'));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function reply(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: message }));
}
