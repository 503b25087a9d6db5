/**
 * The proxy's typed errors, as the system names them. Each carries the HTTP status the client
 * gets, so the request handler maps errors to answers in one place.
 */

/** Base of every error the proxy answers a client with. */
export class ProxyError extends Error {
  constructor(
    message: string,
    /** What the client is answered. */
    readonly clientStatus: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProxyError';
  }
}

/**
 * The upstream answered a media request with an error status. `status` and `headers` are the
 * upstream's, so `classify` decides the retry from them (403, 404 and 410 are never retried).
 */
export class StreamError extends ProxyError {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    /** The upstream said the signed URL expired (`403` with `x-url-expired: 1`). */
    readonly expired: boolean,
  ) {
    super(
      `upstream answered HTTP ${status}${expired ? ' (URL expired)' : ''}`,
      status === 403 || status === 404 || status === 410 ? status : 502,
    );
    this.name = 'StreamError';
  }
}

/** The track does not exist upstream (the resolver or the media answered 404 or 410); the client gets the same status. */
export class TrackNotFoundError extends ProxyError {
  readonly category = 'permanent' as const;
  constructor(
    readonly track: string,
    status: 404 | 410 = 404,
  ) {
    super(
      `track ${JSON.stringify(track.slice(0, 200))} ${status === 410 ? 'is gone' : 'not found'} upstream`,
      status,
    );
    this.name = 'TrackNotFoundError';
  }
}

/** The resolver failed and there is no earlier URL for the track to fall back on. */
export class URLRefreshError extends ProxyError {
  constructor(
    readonly track: string,
    cause: unknown,
  ) {
    super(`could not resolve a URL for track ${JSON.stringify(track.slice(0, 200))}`, 502, {
      cause,
    });
    this.name = 'URLRefreshError';
  }
}
