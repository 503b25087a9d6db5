import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A private redis-server for tests that restart or freeze Redis: on a free loopback port, with
 * AOF fsync on every write (a restart loses nothing acknowledged), data in a fresh temp dir.
 * Never used for the shared server at 127.0.0.1:6379.
 */
export interface OwnRedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** The process id of the current redis-server (changes on restart). */
  pid(): number;
  /** SIGSTOP: the server keeps its socket open but answers nothing. */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
  /** Kills the server (SIGKILL by default, or a clean SIGTERM) and starts it again on the same port and data dir. */
  restart(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Kills the server without starting it again. */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts it again after kill(). */
  start(): Promise<void>;
  /** Stops the server and removes its data dir. Safe to call twice. */
  stop(): Promise<void>;
}

const READY_LINE = /Ready to accept connections/;
const START_DEADLINE_MS = 20_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sends PING on a raw socket and resolves when +PONG comes back (no client library involved). */
function ping(port: number, timeoutMs: number, noAuthIsFine = false): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n'))
        finish(reply.startsWith('+PONG') || (noAuthIsFine && reply.startsWith('-NOAUTH')));
    });
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Spawns redis-server and resolves once it logs that it is ready and answers PING. */
async function launch(
  port: number,
  dir: string,
  extraArgs: readonly string[] = [],
): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--dir',
      dir,
      '--save',
      '',
      '--protected-mode',
      'no',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `redis-server on port ${port} was not ready after ${START_DEADLINE_MS} ms:\n${log}`,
        ),
      );
    }, START_DEADLINE_MS);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (READY_LINE.test(log)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`redis-server could not be started (is it installed?): ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `redis-server exited before it was ready (code ${code}, signal ${signal}):\n${log}`,
        ),
      );
    });
  });
  // Keep draining output so a chatty server never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  // A server with a password answers PING with NOAUTH: that still proves it is up.
  if (!(await ping(port, 5_000, extraArgs.includes('--requirepass'))))
    throw new Error(`redis-server on port ${port} logged ready but did not answer PING`);
  return child;
}

/** `args` are passed to redis-server on every start (e.g. `['--requirepass', secret]`). */
export async function startRedisServer(
  options: { readonly args?: readonly string[] } = {},
): Promise<OwnRedisServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faultline-redis-'));
  const port = await freePort();
  const args = options.args ?? [];
  let child: ChildProcess | undefined = await launch(port, dir, args);
  let stopped = false;

  const kill = async (signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL') => {
    const current = child;
    child = undefined;
    if (!current) return;
    // A frozen process only acts on SIGTERM once it runs again.
    current.kill('SIGCONT');
    current.kill(signal);
    await waitForExit(current);
  };
  const start = async () => {
    if (child) throw new Error('redis-server is already running');
    child = await launch(port, dir, args);
  };
  const running = (): ChildProcess => {
    if (!child) throw new Error('redis-server is not running');
    return child;
  };

  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    pid: () => running().pid ?? -1,
    freeze: () => {
      running().kill('SIGSTOP');
    },
    thaw: () => {
      running().kill('SIGCONT');
    },
    kill,
    start,
    restart: async (signal = 'SIGKILL') => {
      await kill(signal);
      await start();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
