import { readFileSync, statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { NotAFaultlineStoreError, SchemaVersionError } from '../../src/durable/errors.js';
import type { NewJob } from '../../src/durable/store.js';
import { SCHEMA_VERSION, SqliteStore } from '../../src/stores/sqlite/index.js';
import { tempDir } from './temp-dir.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('SqliteStore files', () => {
  it('creates one WAL file with a recorded schema version and reopens it', async () => {
    const file = tmp.path('fresh.db');
    const store = new SqliteStore(file);
    await store.enqueue([{ queue: 'q', payload: '1', priority: 0, runAt: 0 }], 0);
    await store.close();
    const again = new SqliteStore(file, { synchronous: 'FULL', busyTimeoutMs: 100 });
    expect((await again.stats('q', 1)).waiting).toBe(1);
    expect(again.integrityCheck()).toEqual({ ok: true, problems: [] });
    await again.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT max(version) AS v FROM faultline_schema_version').get()).toEqual({
      v: SCHEMA_VERSION,
    });
    db.close();
  });

  it('refuses a SQLite file of another application and writes nothing to it', () => {
    const file = tmp.path('other.db');
    const db = new Database(file);
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)');
    db.close();
    const before = readFileSync(file);
    expect(() => new SqliteStore(file)).toThrow(NotAFaultlineStoreError);
    expect(() => new SqliteStore(file)).toThrow(/users/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a file that is not SQLite at all and writes nothing to it', () => {
    const file = tmp.path('notes.txt');
    writeFileSync(file, 'these are my notes, not a database\n'.repeat(200));
    const before = readFileSync(file);
    expect(() => new SqliteStore(file)).toThrow(NotAFaultlineStoreError);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a store from a newer schema version and writes nothing to it', async () => {
    const file = tmp.path('newer.db');
    await new SqliteStore(file).close();
    const db = new Database(file);
    db.prepare('INSERT INTO faultline_schema_version (version, applied_at) VALUES (?, 0)').run(
      SCHEMA_VERSION + 1,
    );
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const before = readFileSync(file);
    const size = statSync(file).size;
    expect(() => new SqliteStore(file)).toThrow(SchemaVersionError);
    expect(() => new SqliteStore(file)).toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 1}`));
    expect(statSync(file).size).toBe(size);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('lets two connections share one file: a job is claimed by exactly one of them', async () => {
    const file = tmp.path('shared.db');
    const a = new SqliteStore(file);
    const b = new SqliteStore(file);
    await a.enqueue(
      Array.from({ length: 50 }, () => ({ queue: 'q', payload: '{}', priority: 0, runAt: 0 })),
      0,
    );
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).claim({
          queue: 'q',
          workerId: `w${i}`,
          limit: 7,
          leaseMs: 1_000,
          now: 1,
          maxStrikes: 3,
        }),
      ),
    );
    const ids = claims.flat().map((j) => j.id);
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
    await a.close();
    await b.close();
  });
});

describe('SqliteStore enqueue in multi-row statements', () => {
  it('keeps input order, idempotency keys (stored and earlier in the batch) and every field', async () => {
    const store = new SqliteStore(tmp.path('bulk.db'));
    const T = Date.UTC(2030, 0, 1);
    const job = (n: number, extra: Partial<NewJob> = {}): NewJob => ({
      queue: n % 7 === 0 ? 'other' : 'q',
      payload: JSON.stringify({ n }),
      priority: n % 3,
      runAt: T + n,
      ...extra,
    });
    const [stored] = await store.enqueue([job(-1, { idempotencyKey: 'k-stored' })], T);
    // 250 jobs: runs of keyless ones longer and shorter than one INSERT, keyed ones between them.
    const batch = Array.from({ length: 250 }, (_, n) =>
      n === 120
        ? job(n, { idempotencyKey: 'k-stored' })
        : n === 30 || n === 200
          ? job(n, { idempotencyKey: 'k-twice' })
          : job(n, n % 50 === 0 ? { maxAttempts: 2, headers: '{"h":"1"}' } : {}),
    );
    const results = await store.enqueue(batch, T);
    expect(results[120]).toEqual({ id: stored!.id, created: false });
    expect(results[200]).toEqual({ id: results[30]!.id, created: false });
    const created = results.filter((r) => r.created).map((r) => Number(r.id));
    expect(created).toHaveLength(248);
    expect(created).toEqual([...created].sort((a, b) => a - b));
    for (const [n, result] of results.entries()) {
      if (n === 120 || n === 200) continue;
      const record = await store.getJob(result.id);
      expect(record).toMatchObject({
        queue: batch[n]!.queue,
        payload: batch[n]!.payload,
        priority: batch[n]!.priority,
        runAt: batch[n]!.runAt,
      });
    }
    await store.close();
  });
});
