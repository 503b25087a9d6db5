import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asyncDispose } from '../../dispose/async-dispose.js';
import type { FaultlineMetrics } from './metrics.js';

export interface MetricsServer {
  readonly port: number;
  /** `http://host:port/metrics` */
  readonly url: string;
  close(): Promise<void>;
  /** `await using` calls `close()`. */
  [asyncDispose](): Promise<void>;
}

/**
 * Serves `GET /metrics` on `host:port` (default 127.0.0.1; port 0 picks a free one). The
 * server does not keep the process alive, so a finished job exits on its own.
 */
export async function serveMetrics(
  metrics: FaultlineMetrics,
  options: { readonly port?: number; readonly host?: string } = {},
): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: try /metrics\n');
      return;
    }
    metrics.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      (error: unknown) =>
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const port = (server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { port, url: `http://${host}:${port}/metrics`, close, [asyncDispose]: close };
}
