import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactCredentials } from '../config/redact.js';
import type { DurableStore } from '../durable/store.js';
import { ASSETS } from './assets.js';
import { buildQuery, type PageContext } from './context.js';
import { BadRequest, HttpError, NotFound } from './errors.js';
import type { SafeHtml } from './html.js';
import { plainPage } from './layout.js';
import { type DashboardOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { previewPage, runDeadAction } from './pages/actions.js';
import { checkpointPage, checkpointsPage, clearCheckpoint } from './pages/checkpoints.js';
import { deadLetterPage } from './pages/dead-letter.js';
import { deadLettersPage } from './pages/dead-letters.js';
import { overviewPage } from './pages/overview.js';
import { sharedStatePage } from './pages/shared-state.js';
import { storesPage } from './pages/stores.js';
import { ReadCache } from './read-cache.js';
import { readForm } from './request-body.js';
import { Secrets, setSecurityHeaders } from './security.js';

export type DashboardHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

type GetRoute = (context: PageContext, rest: string) => Promise<SafeHtml>;
type PostRoute = (context: PageContext, form: URLSearchParams) => Promise<string>;

/** Pages by path (after the base path and the store); `rest` is what follows a `/dead/` prefix. */
const GET_ROUTES: ReadonlyMap<string, GetRoute> = new Map<string, GetRoute>([
  ['/', (c) => overviewPage(c)],
  ['/dead', (c) => deadLettersPage(c)],
  ['/dead/preview', (c) => previewPage(c)],
  ['/checkpoints', (c) => checkpointsPage(c)],
  ['/checkpoints/view', (c) => checkpointPage(c)],
  ['/shared', (c) => sharedStatePage(c)],
]);

const POST_ROUTES: ReadonlyMap<string, PostRoute> = new Map<string, PostRoute>([
  ['/dead/requeue', (c, form) => runDeadAction(c, 'requeue', form)],
  ['/dead/purge', (c, form) => runDeadAction(c, 'purge', form)],
  ['/checkpoints/clear', (c, form) => clearCheckpoint(c, form)],
]);

/**
 * The operators' dashboard as a standard Node request handler: mount it in `node:http`
 * (`http.createServer(handler)`), Express (`app.use('/ops', handler)` with `basePath: '/ops'`)
 * or anything that passes `(req, res)`. It reads and acts only through the store interface.
 */
export function createDashboard(options: DashboardOptions): DashboardHandler {
  const resolved = resolveOptions(options);
  const secrets = new Secrets(resolved.basePath === '' ? '/' : resolved.basePath, resolved.token);
  const cache = new ReadCache(resolved.clock);
  return (req, res) => {
    handle(req, res, resolved, secrets, cache).catch((error: unknown) => {
      // Only reached when writing the answer itself failed (the client went away).
      if (!res.headersSent)
        send(res, 500, plainPage('Error', 'The dashboard failed to answer.', undefined));
      else res.destroy(error instanceof Error ? error : undefined);
    });
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: ResolvedOptions,
  secrets: Secrets,
  cache: ReadCache,
): Promise<void> {
  setSecurityHeaders(res);
  res.setHeader('Cache-Control', 'no-store');
  const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
  // Mounted by Express under the base path, req.url has it removed already; in node:http it does not.
  let path = url.pathname;
  if (
    options.basePath !== '' &&
    (path === options.basePath || path.startsWith(`${options.basePath}/`))
  )
    path = path.slice(options.basePath.length);
  if (path === '') path = '/';
  const method = req.method ?? 'GET';
  const cssHref = `${options.basePath}/assets/app.css?v=${ASSETS.get('app.css')!.etag.slice(1, 9)}`;

  if (path.startsWith('/assets/') && (method === 'GET' || method === 'HEAD'))
    return sendAsset(req, res, path.slice('/assets/'.length));

  // Access: the token (header, or the session cookie a ?token= visit sets), then the auth hook.
  const offered = url.searchParams.get('token');
  if (offered !== null && method === 'GET' && secrets.isToken(offered)) {
    secrets.startSession(res);
    url.searchParams.delete('token');
    res.statusCode = 303;
    res.setHeader('Location', `${options.basePath}${path}${url.search}`);
    res.end();
    return;
  }
  if (!secrets.hasToken(req)) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="faultline dashboard"');
    return send(
      res,
      401,
      plainPage(
        'Token needed',
        'This dashboard needs its access token: open it once with ?token=<token>, or send Authorization: Bearer <token>.',
        cssHref,
      ),
    );
  }
  if (options.auth !== undefined && !(await options.auth(req)))
    return send(res, 403, plainPage('Forbidden', 'The dashboard refused this request.', cssHref));

  // Which store: the only one, or /s/<name>/... with several.
  let storeName = 'default';
  let storePrefix = '';
  if (!options.single) {
    const match = /^\/s\/([^/]+)(\/.*)?$/.exec(path);
    if (match === null) {
      if (path !== '/' || method !== 'GET')
        return send(res, 404, plainPage('Not found', 'No such page.', cssHref));
      return send(res, 200, storesPage(options, cssHref));
    }
    storeName = decodeURIComponent(match[1]!);
    storePrefix = `/s/${encodeURIComponent(storeName)}`;
    path = match[2] ?? '/';
  }
  const store = options.stores.get(storeName);
  if (store === undefined)
    return send(res, 404, plainPage('Not found', 'No store by that name.', cssHref));
  const context = makeContext(
    req,
    res,
    url.searchParams,
    options,
    store,
    storeName,
    storePrefix,
    secrets,
    cache,
  );

  try {
    if (method === 'GET' || method === 'HEAD') {
      const route = GET_ROUTES.get(path);
      let body: SafeHtml;
      if (route !== undefined) body = await route(context, '');
      else if (path.startsWith('/dead/') && path.length > '/dead/'.length)
        body = await deadLetterPage(context, decodePathPart(path.slice('/dead/'.length)));
      else throw new NotFound('No such page.');
      return sendPage(req, res, body);
    }
    if (method === 'POST') {
      const route = POST_ROUTES.get(path);
      if (route === undefined) throw new NotFound('No such action.');
      if (options.readOnly)
        throw new HttpError(
          403,
          'This dashboard is read-only: it shows the store and changes nothing.',
        );
      const form = await readForm(req);
      if (!secrets.checkCsrf(req, form.get('csrf') ?? undefined))
        throw new HttpError(
          403,
          'The form is stale or came from another site (CSRF check failed): reload the page and try again.',
        );
      const location = await route(context, form);
      // The next page must show the action's effect, not a cached read from before it.
      cache.clear();
      res.statusCode = 303;
      res.setHeader('Location', location);
      res.end();
      return;
    }
    res.setHeader('Allow', 'GET, HEAD, POST');
    return send(
      res,
      405,
      plainPage('Method not allowed', 'The dashboard answers GET and POST only.', cssHref),
    );
  } catch (error) {
    if (error instanceof HttpError)
      return send(res, error.status, plainPage(titleOf(error.status), error.message, cssHref));
    // A store error: its text is shown without credentials (store URLs may carry some).
    const message = error instanceof Error ? error.message : String(error);
    return send(
      res,
      500,
      plainPage('Store error', `The store failed: ${redactCredentials(message)}`, cssHref),
    );
  }
}

function titleOf(status: number): string {
  return (
    (
      {
        400: 'Bad request',
        403: 'Forbidden',
        404: 'Not found',
        409: 'Conflict',
        413: 'Too large',
        415: 'Unsupported form',
      } as Record<number, string>
    )[status] ?? 'Error'
  );
}

function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new BadRequest('The path is not valid percent-encoding.');
  }
}

function makeContext(
  req: IncomingMessage,
  res: ServerResponse,
  params: URLSearchParams,
  options: ResolvedOptions,
  store: DurableStore,
  storeName: string,
  storePrefix: string,
  secrets: Secrets,
  cache: ReadCache,
): PageContext {
  const root = `${options.basePath}${storePrefix}`;
  return {
    req,
    res,
    params,
    store,
    storeName,
    options,
    now: options.clock.wallTime(),
    csrf: secrets.csrfToken(req, res),
    href: (path, query) => `${root}${path === '/' && root !== '' ? '/' : path}${buildQuery(query)}`,
    asset: (name) =>
      `${options.basePath}/assets/${name}?v=${ASSETS.get(name)?.etag.slice(1, 9) ?? ''}`,
    read: (key, load) => cache.read(`${storeName}\u0000${key}`, load),
    cache,
  };
}

function send(res: ServerResponse, status: number, body: SafeHtml): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(body.text);
}

/** A page with an ETag: a live refresh of an unchanged page is a bodiless 304. */
function sendPage(req: IncomingMessage, res: ServerResponse, body: SafeHtml): void {
  const etag = `"${createHash('sha1').update(body.text).digest('base64url')}"`;
  res.setHeader('ETag', etag);
  if (req.headers['if-none-match'] === etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(req.method === 'HEAD' ? undefined : body.text);
}

function sendAsset(req: IncomingMessage, res: ServerResponse, name: string): void {
  const asset = ASSETS.get(name);
  if (asset === undefined) {
    res.statusCode = 404;
    res.end();
    return;
  }
  // Links carry the content hash (?v=), so a long cache is safe.
  res.setHeader('Cache-Control', 'public, max-age=86400');
  res.setHeader('ETag', asset.etag);
  if (req.headers['if-none-match'] === asset.etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', asset.type);
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}
