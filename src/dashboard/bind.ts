import { isIP } from 'node:net';
import { ConfigError } from '../faults/errors.js';

/**
 * The dashboard acts on queues: it listens on the loopback interface unless it is protected.
 * Any other address (0.0.0.0, a LAN address, a host name) needs a token or an auth hook.
 */
export function isLoopback(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost' || bare === '::1') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return false;
}

/** Throws a ConfigError naming `host` when it is not loopback and nothing protects the dashboard. */
export function checkBindAddress(
  host: string,
  protection: { readonly token?: string | undefined; readonly auth?: unknown },
): void {
  if (isLoopback(host)) return;
  if (protection.token !== undefined || protection.auth !== undefined) return;
  throw new ConfigError(
    'host',
    host,
    'a loopback address (127.0.0.1, ::1, localhost), or a token (--token or FAULTLINE_DASHBOARD_TOKEN) or an auth hook to listen on another address',
  );
}
