import net from 'node:net';

/**
 * A TCP proxy between workers and a store server that can misbehave on demand:
 * `delay(ms)` holds every chunk that long in both directions, `drop()` swallows traffic
 * (connections stay open, nothing arrives: a black hole), `reset()` destroys every connection
 * at once, `heal()` goes back to passing traffic straight through.
 */
export interface FaultProxy {
  readonly port: number;
  delay(ms: number): void;
  drop(): void;
  reset(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<FaultProxy> {
  let delayMs = 0;
  let dropping = false;
  const sockets = new Set<net.Socket>();
  const pipe = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk) => {
      if (dropping) return;
      if (delayMs === 0) to.write(chunk);
      else setTimeout(() => to.writable && to.write(chunk), delayMs);
    });
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    delay: (ms) => {
      delayMs = ms;
    },
    drop: () => {
      dropping = true;
    },
    reset: () => {
      for (const s of sockets) s.resetAndDestroy();
    },
    heal: () => {
      delayMs = 0;
      dropping = false;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
