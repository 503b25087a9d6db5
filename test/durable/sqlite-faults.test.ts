import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  NotAFaultlineStoreError,
  Queue,
  StoreFileGoneError,
  Worker,
} from '../../src/durable/index.js';
import { classify } from '../../src/faults/classify.js';
import { ConfigError } from '../../src/faults/errors.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { TSX } from '../cli/run-cli.js';
import { tempDir } from './temp-dir.js';

const temp = tempDir('faultline-sqlite-faults-');
afterAll(() => temp.cleanup());

let files = 0;
const fresh = (name = 'store') => temp.path(`${name}-${++files}.db`);
const job = (n: number, payload = '{}') => ({
  queue: 'q',
  payload,
  priority: 0,
  runAt: 0,
  idempotencyKey: `k${n}`,
});
const claimRequest = {
  queue: 'q',
  workerId: 'w',
  limit: 10,
  leaseMs: 60_000,
  now: 1,
  maxStrikes: 3,
};

/** The store's own connection, to set pragmas a test needs (disk full). */
function connectionOf(store: SqliteStore): Database.Database {
  return (store as unknown as { db: Database.Database }).db;
}

describe('a SQLite store whose file is deleted or replaced fails loudly', () => {
  it('deleted with -wal and -shm: enqueue and claim reject with StoreFileGoneError (resource, not retryable); health is unhealthy', async () => {
    const path = fresh();
    const store = new SqliteStore(path, { fileCheckMs: 0 });
    const queue = new Queue(store, 'q');
    await queue.enqueue({ n: 1 });
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    const error = await queue.enqueue({ n: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreFileGoneError);
    expect((error as StoreFileGoneError).what).toBe('deleted');
    expect((error as Error).message).toContain(path);
    expect(classify(error)).toMatchObject({
      category: 'resource',
      retryable: false,
      code: 'STORE_FILE_GONE',
    });
    await expect(store.claim(claimRequest)).rejects.toBeInstanceOf(StoreFileGoneError);
    const health = await queue.health();
    expect(health.status).toBe('unhealthy');
    expect((health as { error: unknown }).error).toBeInstanceOf(StoreFileGoneError);
    await store.close();
    expect(existsSync(path)).toBe(false);
  });

  it('with the default check interval, health() notices at once and later calls refuse', async () => {
    const path = fresh();
    const store = new SqliteStore(path);
    const queue = new Queue(store, 'q');
    await queue.enqueue({ n: 1 });
    rmSync(path);
    expect((await queue.health()).status).toBe('unhealthy');
    await expect(queue.enqueue({ n: 2 })).rejects.toBeInstanceOf(StoreFileGoneError);
    await store.close();
  });

  it('an outcome written after the file was deleted, within the check interval, is not reported applied', async () => {
    const path = fresh();
    // The default interval (1 s): the claim has just checked, so the next periodic check is later.
    const store = new SqliteStore(path);
    await store.enqueue([job(1)], 0);
    const [claimed] = await store.claim(claimRequest);
    for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
    // Written into an unlinked file that vanishes at close: the worker must hear it failed,
    // so that it reports the job unrecorded instead of completed (seen in the fault harness).
    const error = await store
      .settle([{ id: claimed!.id, token: claimed!.token, kind: 'complete' }], 2)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreFileGoneError);
    await store.close();
  });

  it('replaced by another file (renamed over it): StoreFileGoneError "replaced"', async () => {
    const path = fresh();
    const other = fresh('other');
    const store = new SqliteStore(path, { fileCheckMs: 0 });
    await store.enqueue([job(1)], 0);
    const second = new SqliteStore(other);
    await second.close();
    renameSync(other, path);
    const error = await store.enqueue([job(2)], 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreFileGoneError);
    expect((error as StoreFileGoneError).what).toBe('replaced');
    await store.close();
  });

  it('a worker sees the typed error on claim: resource, not retryable', async () => {
    const path = fresh();
    const store = new SqliteStore(path, { fileCheckMs: 0 });
    const queue = new Queue(store, 'q');
    await queue.enqueue({ n: 1 });
    rmSync(path);
    const errors: unknown[] = [];
    const worker = new Worker(queue, async () => {}, { pollMs: 20, keepAlive: false });
    worker.events.on('error', (event) => errors.push(event.error));
    worker.start();
    for (let i = 0; i < 200 && errors.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await worker.stop({ deadlineMs: 100 });
    expect(errors[0]).toBeInstanceOf(StoreFileGoneError);
    expect(classify(errors[0])).toMatchObject({ category: 'resource', retryable: false });
    await store.close();
  });
});

describe('store faults that cannot heal are resource faults; transient ones are retryable', () => {
  it('16 KB of garbage in the middle of a valid store: SQLITE_CORRUPT is resource, integrityCheck() reports it', async () => {
    const path = fresh();
    const setup = new SqliteStore(path);
    for (let i = 0; i < 20; i++) {
      await setup.enqueue(
        Array.from({ length: 50 }, (_, j) =>
          job(i * 50 + j, JSON.stringify({ text: 'x'.repeat(200), i, j })),
        ),
        0,
      );
    }
    expect(setup.integrityCheck()).toEqual({ ok: true, problems: [] });
    await setup.close();
    const size = statSync(path).size;
    expect(size).toBeGreaterThan(64 * 1024);
    const fd = openSync(path, 'r+');
    const garbage = Buffer.alloc(16 * 1024, 0xa5);
    writeSync(fd, garbage, 0, garbage.length, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);

    const store = new SqliteStore(path);
    const report = store.integrityCheck();
    expect(report.ok).toBe(false);
    expect(report.problems.length).toBeGreaterThan(0);
    // The claim reads every waiting job's row: it meets the damaged pages.
    const failure = await store.claim({ ...claimRequest, limit: 1000 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(classify(failure)).toMatchObject({ category: 'resource', retryable: false });
    expect((failure as { code?: string }).code).toMatch(/^SQLITE_CORRUPT/);
    // It stays unhealthy: the health check's own query does not touch the damaged pages, so the
    // store remembers the damage, and every later call fails with it (the worker stops on it).
    const health = await new Queue(store, 'q').health();
    expect(health.status).toBe('unhealthy');
    const again = await store.enqueue([job(99_999)], 0).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(Error);
    expect((again as Error).message).toContain(path);
    expect(classify(again)).toMatchObject({ category: 'resource', retryable: false });
    // Inspection stays possible.
    expect(store.integrityCheck().ok).toBe(false);
    await store.close();
  });

  it('disk full (max_page_count): SQLITE_FULL is resource, not retryable', async () => {
    const path = fresh();
    const store = new SqliteStore(path);
    await store.enqueue([job(0)], 0);
    const db = connectionOf(store);
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
    let error: unknown;
    for (let i = 1; i < 200 && error === undefined; i++) {
      error = await store.enqueue([job(i, JSON.stringify({ text: 'y'.repeat(4000) }))], 0).then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect((error as { code?: string }).code).toBe('SQLITE_FULL');
    expect(classify(error)).toMatchObject({ category: 'resource', retryable: false });
    await store.close();
  });

  it('another process holding the write lock: SQLITE_BUSY is transient (retryable)', async () => {
    const path = fresh();
    const store = new SqliteStore(path, { busyTimeoutMs: 0 });
    await store.enqueue([job(0)], 0);
    const other = new Database(path);
    other.exec('BEGIN EXCLUSIVE');
    const error = await store.enqueue([job(1)], 0).catch((e: unknown) => e);
    other.exec('ROLLBACK');
    other.close();
    expect((error as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
    expect(classify(error)).toMatchObject({ category: 'conflict', retryable: true });
    await store.close();
  });
});

describe('store paths that lie', () => {
  it('a missing folder is a ConfigError naming the path (validation, not retryable)', () => {
    const path = join(temp.dir, 'no-such-folder', 'store.db');
    let error: unknown;
    try {
      new SqliteStore(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(join(temp.dir, 'no-such-folder'));
    expect(classify(error)).toMatchObject({ category: 'validation', retryable: false });
  });

  it('a NUL in the path is a ConfigError, and no other file is created', () => {
    const before = readdirSync(temp.dir).sort();
    expect(() => new SqliteStore(join(temp.dir, 'cut\u0000off.db'))).toThrow(ConfigError);
    expect(readdirSync(temp.dir).sort()).toEqual(before);
  });

  /**
   * Runs the open-and-enqueue child without the capabilities that let root ignore file
   * permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a read-only file or folder is
   * read-only to it. Still root, so it reads the checkout wherever it is (another user could not
   * enter a private clone).
   */
  function openWithoutOverride(path: string): {
    ok: boolean;
    at?: string;
    name?: string;
    message?: string;
    category?: string;
    retryable?: boolean;
  } {
    const out = execFileSync(
      'setpriv',
      [
        '--bounding-set=-dac_override,-dac_read_search',
        '--',
        process.execPath,
        '--import',
        TSX,
        fileURLToPath(new URL('./sqlite-open-child.ts', import.meta.url)),
        path,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, HOME: '/tmp' },
      },
    );
    return JSON.parse(out.trim().split('\n').pop()!);
  }

  it('a valid store in a read-only folder is not "not a faultline store": the error says why', async () => {
    const folder = temp.path(`ro-folder-${++files}`);
    execFileSync('mkdir', [folder]);
    const path = join(folder, 'store.db');
    const setup = new SqliteStore(path);
    await setup.enqueue([job(1)], 0);
    await setup.close();
    chmodSync(temp.dir, 0o755);
    chmodSync(path, 0o644);
    chmodSync(folder, 0o555);
    try {
      const result = openWithoutOverride(path);
      expect(result.ok).toBe(false);
      expect(result.name).not.toBe(NotAFaultlineStoreError.name);
      expect(result.message).toContain('read-only');
      expect(result.message).toContain(path);
      expect(result).toMatchObject({ category: 'resource', retryable: false });
    } finally {
      chmodSync(folder, 0o755);
    }
  });

  it('a read-only -wal beside a writable store file: refused at open too', async () => {
    const folder = temp.path(`ro-wal-${++files}`);
    execFileSync('mkdir', [folder]);
    const path = join(folder, 'store.db');
    const setup = new SqliteStore(path);
    await setup.enqueue([job(1)], 0);
    // Left behind as by a crash: a -wal that this process cannot write.
    // A second connection that has read keeps the -wal from being removed at close.
    const keep = new Database(path);
    keep.prepare('SELECT count(*) FROM faultline_jobs').get();
    await setup.close();
    chmodSync(temp.dir, 0o755);
    chmodSync(folder, 0o777);
    chmodSync(`${path}-wal`, 0o444);
    try {
      const result = openWithoutOverride(path);
      expect(result.ok).toBe(false);
      expect(result.at).toBe('open');
      expect(result.message).toContain(`${path}-wal`);
      expect(result).toMatchObject({ category: 'resource', retryable: false });
    } finally {
      keep.close();
    }
  });

  it('a read-only store file: the error says so, resource and not retryable', async () => {
    const folder = temp.path(`ro-file-${++files}`);
    execFileSync('mkdir', [folder]);
    const path = join(folder, 'store.db');
    const setup = new SqliteStore(path);
    await setup.enqueue([job(1)], 0);
    await setup.close();
    chmodSync(temp.dir, 0o755);
    chmodSync(folder, 0o777);
    chmodSync(path, 0o444);
    const result = openWithoutOverride(path);
    expect(result.ok).toBe(false);
    // Refused when it opens, not at its first write: a worker must not start on a store it cannot write.
    expect(result.at).toBe('open');
    expect(result.message).toMatch(/read-only|readonly/);
    expect(result).toMatchObject({ category: 'resource', retryable: false });
  });
});
