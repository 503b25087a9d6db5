import { copyFileSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, SqliteStore } from '../../src/stores/sqlite/index.js';
import { tempDir } from './temp-dir.js';

/**
 * A store file written by the code before the rename (commit 744aecd, test/fixtures/legacy-744aecd/
 * generate.ts) opens with every job, dead letter and checkpoint the old code wrote.
 */
const fixtures = fileURLToPath(new URL('../fixtures/legacy-744aecd/', import.meta.url));
const expected = JSON.parse(readFileSync(`${fixtures}sqlite-expected.json`, 'utf8')) as {
  readAt: number;
  queues: string[];
  stats: Record<string, unknown>;
  jobs: Record<string, unknown>;
  dead: unknown[];
  checkpoints: unknown[];
};
const tmp = tempDir();
afterAll(() => tmp.cleanup());

function copyOfFixture(name: string): string {
  const file = tmp.path(name);
  copyFileSync(`${fixtures}lifeline-744aecd.sqlite`, file);
  return file;
}

function objectNames(file: string): string[] {
  const db = new Database(file, { readonly: true });
  const names = (
    db
      .prepare("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[]
  ).map((r) => r.name);
  db.close();
  return names;
}

describe('SqliteStore opening a store written before the rename', () => {
  it('finds every job, dead letter, pause and checkpoint the old code wrote', async () => {
    const file = copyOfFixture('old.sqlite');
    expect(objectNames(file).every((name) => name.startsWith('lifeline_'))).toBe(true);
    const store = new SqliteStore(file);
    expect(await store.queues()).toEqual(expected.queues);
    for (const queue of expected.queues)
      expect(await store.stats(queue, expected.readAt)).toEqual(expected.stats[queue]);
    for (const [id, job] of Object.entries(expected.jobs))
      expect(await store.getJob(id)).toEqual(job);
    expect(await store.listDead()).toEqual(expected.dead);
    expect(await store.listCheckpoints()).toEqual(expected.checkpoints);
    expect(store.integrityCheck()).toEqual({ ok: true, problems: [] });
    await store.close();
  });

  it('renames the tables and indexes in place and keeps working with them', async () => {
    const file = copyOfFixture('renamed.sqlite');
    const store = new SqliteStore(file);
    const [job] = await store.enqueue(
      [{ queue: 'crawl', payload: '{"n":10}', priority: 0, runAt: 0 }],
      expected.readAt,
    );
    await store.close();
    const names = objectNames(file);
    expect(names.filter((name) => name.includes('lifeline'))).toEqual([]);
    expect(names).toEqual(
      expect.arrayContaining([
        'faultline_jobs',
        'faultline_queues',
        'faultline_checkpoints',
        'faultline_schema_version',
        'faultline_jobs_claim',
        'faultline_jobs_idempotency',
      ]),
    );
    const again = new SqliteStore(file);
    expect((await again.getJob(job!.id))?.state).toBe('waiting');
    expect((await again.stats('crawl', expected.readAt)).waiting).toBe(2);
    // The idempotency index still holds after its rename: the old key is found, not duplicated.
    const [dup] = await again.enqueue(
      [{ queue: 'crawl', payload: '{}', priority: 0, runAt: 0, idempotencyKey: 'page-4' }],
      expected.readAt,
    );
    expect(dup).toEqual({ id: '4', created: false });
    await again.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT max(version) AS v FROM faultline_schema_version').get()).toEqual({
      v: SCHEMA_VERSION,
    });
    db.close();
  });

  it('a second connection opened right after the rename reads the same store', async () => {
    const file = copyOfFixture('twice.sqlite');
    const a = new SqliteStore(file);
    const b = new SqliteStore(file);
    expect(await a.listDead()).toEqual(expected.dead);
    expect(await b.listDead()).toEqual(expected.dead);
    await a.close();
    await b.close();
  });
});
