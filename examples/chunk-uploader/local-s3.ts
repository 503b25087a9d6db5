import { mkdirSync } from 'node:fs';
import S3rver from 's3rver';

/** A local S3-compatible server (s3rver) on 127.0.0.1, storing its data in `directory`. */
export interface LocalS3 {
  /** `http://127.0.0.1:<port>`: use with `forcePathStyle: true`. */
  readonly endpoint: string;
  /** The underlying node:http server (to watch requests in tests). */
  readonly httpServer: S3rver['httpServer'];
  close(): Promise<void>;
}

/**
 * Starts s3rver on a free port (or `port`). Its data lives in `directory`, so a server started
 * again on the same directory still holds the buckets, objects and unfinished multipart uploads.
 */
export async function startLocalS3(options: {
  directory: string;
  buckets: readonly string[];
  port?: number;
}): Promise<LocalS3> {
  mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    httpServer: server.httpServer,
    close: async () => {
      server.httpServer.closeAllConnections();
      await server.close();
    },
  };
}
