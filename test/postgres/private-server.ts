import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A PostgreSQL cluster of the test's own (initdb + pg_ctl on a free port, trust auth, fsync off),
 * so a test may freeze or restart it; the machine's shared server is never touched. initdb and
 * pg_ctl refuse to run as root: as root they run as the `postgres` user.
 */
export class PrivateServer {
  readonly dir: string;
  readonly port: number;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async create(): Promise<PrivateServer> {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-pg-'));
    const server = new PrivateServer(dir, await freePort());
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      chownSync(dir, uid, gid);
    }
    server.run('initdb', [
      '-D',
      join(dir, 'data'),
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '--no-instructions',
    ]);
    server.start();
    return server;
  }

  start(): void {
    // fsync=off: the machine never crashes under these tests, only the server does, and written
    // WAL survives that. synchronous_commit stays on: with it off an immediate stop forgets
    // commits the server had acknowledged (a claim, a renewal), which no store can survive.
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB`;
    this.run('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-o',
      options,
      '-l',
      join(this.dir, 'log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }

  /** Stops at once, like a crash (the next start recovers from the WAL). */
  stop(): void {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  /** The postmaster and every backend: SIGSTOP freezes the whole server, SIGCONT thaws it. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    const postmaster = Number(
      readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)])
      .toString()
      .split('\n')
      .map(Number)
      .filter((pid) => pid > 0);
    for (const pid of [postmaster, ...children]) {
      try {
        process.kill(pid, signal);
      } catch {
        // A backend that exited meanwhile.
      }
    }
  }

  destroy(): void {
    try {
      this.signal('SIGCONT');
      this.stop();
    } catch {
      // Already stopped.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(command: string, args: string[]): void {
    const asPostgres = process.getuid?.() === 0;
    execFileSync(
      asPostgres ? 'runuser' : command,
      asPostgres ? ['-u', 'postgres', '--', command, ...args] : args,
      { stdio: 'pipe', cwd: this.dir },
    );
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
