import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The dashboard's defences in one place: response headers (a strict Content-Security-Policy:
 * scripts and styles only from the dashboard's own asset files, no inline code, no frames),
 * the CSRF token of every form (bound to a random cookie by an HMAC), and the access token.
 */

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on form posts, and the CSRF check reads Origin.
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

/** Cookie values by name (the first of each). */
export function readCookies(req: IncomingMessage): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const CSRF_COOKIE = 'faultline_csrf';
const AUTH_COOKIE = 'faultline_auth';

/** Keys of one dashboard instance: a restart makes new ones (forms and sessions start over). */
export class Secrets {
  private readonly key = randomBytes(32);

  constructor(
    private readonly cookiePath: string,
    private readonly token: string | undefined,
  ) {}

  private mac(purpose: string, value: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\u0000${value}`).digest('base64url');
  }

  private cookie(name: string, value: string): string {
    return `${name}=${value}; Path=${this.cookiePath}; HttpOnly; SameSite=Strict`;
  }

  /**
   * The CSRF token for this browser's forms: an HMAC of its random `faultline_csrf` cookie,
   * setting the cookie when it has none. A page of another site can neither read the token nor
   * (SameSite=Strict) send the cookie.
   */
  csrfToken(req: IncomingMessage, res: ServerResponse): string {
    let id = readCookies(req).get(CSRF_COOKIE);
    if (id === undefined || !/^[A-Za-z0-9_-]{22,64}$/.test(id)) {
      id = randomBytes(18).toString('base64url');
      appendSetCookie(res, this.cookie(CSRF_COOKIE, id));
    }
    return this.mac('csrf', id);
  }

  /** Whether a POST carries the CSRF token of its cookie (and, when sent, an Origin of this host). */
  checkCsrf(req: IncomingMessage, submitted: string | undefined): boolean {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      try {
        if (new URL(origin).host !== req.headers.host) return false;
      } catch {
        return false;
      }
    } else if (origin === 'null') return false;
    const id = readCookies(req).get(CSRF_COOKIE);
    return id !== undefined && submitted !== undefined && sameText(this.mac('csrf', id), submitted);
  }

  get needsToken(): boolean {
    return this.token !== undefined;
  }

  /** Whether the request carries the access token: `Authorization: Bearer`, or the session cookie a `?token=` visit set. */
  hasToken(req: IncomingMessage): boolean {
    if (this.token === undefined) return true;
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ') && sameText(header.slice(7), this.token)) return true;
    const session = readCookies(req).get(AUTH_COOKIE);
    return session !== undefined && sameText(session, this.mac('auth', this.token));
  }

  /** Whether `candidate` is the token (a `?token=` visit). */
  isToken(candidate: string): boolean {
    return this.token !== undefined && sameText(candidate, this.token);
  }

  /** Sets the session cookie that stands for the token (the cookie is an HMAC, not the token). */
  startSession(res: ServerResponse): void {
    appendSetCookie(res, this.cookie(AUTH_COOKIE, this.mac('auth', this.token ?? '')));
  }
}

function appendSetCookie(res: ServerResponse, cookie: string): void {
  const existing = res.getHeader('Set-Cookie');
  const list =
    existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('Set-Cookie', [...list, cookie]);
}
