import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DurableStore } from '../../src/durable/store.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import {
  connectShared,
  deletePrefix,
  SHARED_REDIS_URL,
  uniquePrefix,
} from '../redis/shared-redis.js';
import { json, runCli } from './run-cli.js';
import { type Seeded, seedStore } from './seed.js';

export interface Backend {
  readonly name: string;
  readonly args: string[];
  open(): DurableStore;
  cleanup(): Promise<void>;
}

export function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-cli-'));
  const path = join(dir, 'store.db');
  return {
    name: 'sqlite',
    args: ['--store', `sqlite:${path}`],
    open: () => new SqliteStore(path),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function redisBackend(): Promise<Backend> {
  const client = await connectShared();
  const prefix = uniquePrefix('cli');
  return {
    name: 'redis',
    args: ['--store', SHARED_REDIS_URL, '--redis-prefix', prefix],
    open: () => new RedisStore({ url: SHARED_REDIS_URL, prefix }),
    cleanup: async () => {
      await deletePrefix(client, prefix);
      client.disconnect();
    },
  };
}

/** The same CLI checks against any store: seeded through the store API, read back after each change. */
export function describeCliSuite(name: string, makeBackend: () => Promise<Backend>): void {
  describe(`faultline CLI on ${name}`, () => {
    let backend: Backend;
    let seeded: Seeded;
    const cli = (...args: string[]) => runCli([...args, ...backend.args]);
    const withStore = async <T>(body: (store: DurableStore) => Promise<T>): Promise<T> => {
      const store = backend.open();
      try {
        return await body(store);
      } finally {
        await store.close();
      }
    };

    beforeAll(async () => {
      backend = await makeBackend();
      seeded = await withStore(seedStore);
    });
    afterAll(async () => {
      await backend?.cleanup();
    });

    it('stats: a table, and --json with every queue', async () => {
      const [text, asJson, one] = await Promise.all([
        cli('stats'),
        cli('stats', '--json'),
        cli('stats', '--queue', 'emails', '--json'),
      ]);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/│ crawl\s+│ 1\s+│ 0\s+│ 0\s+│ 1\s+│ 2\s+│/);
      expect(asJson.code).toBe(0);
      const data = json<{ queues: Record<string, unknown>[] }>(asJson);
      expect(data.queues).toEqual([
        expect.objectContaining({
          queue: 'crawl',
          waiting: 1,
          delayed: 0,
          running: 0,
          completed: 1,
          dead: 2,
          pausedUntil: null,
        }),
        expect.objectContaining({ queue: 'emails', waiting: 1, dead: 0 }),
      ]);
      expect(data.queues[0]?.oldestWaitingAgeMs).toBeGreaterThanOrEqual(1000);
      expect(json<{ queues: unknown[] }>(one).queues).toHaveLength(1);
    });

    it('dead list: newest first, filters, --json', async () => {
      const [all, validation, text] = await Promise.all([
        cli('dead', 'list', '--json'),
        cli('dead', 'list', '--category', 'validation', '--json'),
        cli('dead', 'list'),
      ]);
      const letters = json<{ count: number; deadLetters: Record<string, unknown>[] }>(all);
      expect(letters.count).toBe(2);
      expect(letters.deadLetters.map((d) => d.category).sort()).toEqual(['network', 'validation']);
      expect(letters.deadLetters.find((d) => d.id === seeded.deadValidation)).toMatchObject({
        queue: 'crawl',
        message: 'Item 2: invalid record (missing title)',
        suggestions: ['Fix the payload and requeue it.'],
        payload: { id: 2 },
      });
      expect(
        json<{ deadLetters: { id: string }[] }>(validation).deadLetters.map((d) => d.id),
      ).toEqual([seeded.deadValidation]);
      expect(text.stdout).toContain('invalid record');
      expect(text.stdout).toContain('faultline dead show <id>');
    });

    it('dead show: the whole record; an unknown id exits 4', async () => {
      const [shown, text, missing] = await Promise.all([
        cli('dead', 'show', seeded.deadValidation, '--json'),
        cli('dead', 'show', seeded.deadNetwork),
        cli('dead', 'show', 'no-such-id'),
      ]);
      expect(shown.code, shown.stderr).toBe(0);
      expect(json(shown)).toMatchObject({
        id: seeded.deadValidation,
        state: 'dead',
        category: 'validation',
        checkpoint: { page: 7 },
        payload: { id: 2 },
        history: [
          expect.objectContaining({
            outcome: 'dead',
            category: 'validation',
            workerId: 'seed-worker',
          }),
        ],
      });
      expect(text.stdout).toContain('Check network connectivity.');
      expect(text.stdout).toContain(`faultline dead requeue ${seeded.deadNetwork}`);
      expect(missing.code).toBe(4);
      expect(missing.stderr).toContain('No dead letter with id "no-such-id"');
      expect(missing.stdout).toBe('');
    });

    it('checkpoints list / show / clear with --dry-run; a missing key exits 4', async () => {
      const [list, show, missing] = await Promise.all([
        cli('checkpoints', 'list', '--json'),
        cli('checkpoints', 'show', 'upload:video-1', '--json'),
        cli('checkpoints', 'show', 'nope'),
      ]);
      expect(json<{ checkpoints: { key: string }[] }>(list).checkpoints.map((c) => c.key)).toEqual([
        'crawl:crawl',
        'upload:video-1',
      ]);
      expect(json(show)).toMatchObject({ key: 'upload:video-1', value: { parts: [1, 2] } });
      expect(missing.code).toBe(4);
      const dry = await cli('checkpoints', 'clear', '--prefix', 'upload:', '--dry-run', '--json');
      expect(json(dry)).toMatchObject({ dryRun: true, count: 1, keys: ['upload:video-1'] });
      expect(await withStore((s) => s.getCheckpoint('upload:video-1'))).toBeDefined();
      const cleared = await cli('checkpoints', 'clear', 'upload:video-1', '--json');
      expect(json(cleared)).toMatchObject({ dryRun: false, count: 1 });
      expect(await withStore((s) => s.getCheckpoint('upload:video-1'))).toBeUndefined();
      expect((await cli('checkpoints', 'clear', 'upload:video-1')).code).toBe(4);
    });

    it('dead requeue: --dry-run changes nothing, an unknown id requeues nothing, then by id', async () => {
      const dry = await cli('dead', 'requeue', seeded.deadNetwork, '--dry-run', '--json');
      expect(json(dry)).toMatchObject({ dryRun: true, count: 1, ids: [seeded.deadNetwork] });
      const unknown = await cli('dead', 'requeue', seeded.deadNetwork, 'no-such-id');
      expect(unknown.code).toBe(4);
      expect(unknown.stderr).toContain('nothing was requeued');
      expect(await withStore((s) => s.stats('crawl', Date.now()))).toMatchObject({
        waiting: 1,
        dead: 2,
      });
      const done = await cli('dead', 'requeue', seeded.deadNetwork, '--json');
      expect(json(done)).toMatchObject({ dryRun: false, ids: [seeded.deadNetwork] });
      expect(await withStore((s) => s.stats('crawl', Date.now()))).toMatchObject({
        waiting: 2,
        dead: 1,
      });
    });

    it('dead purge: needs a selection; --dry-run lists; then deletes', async () => {
      const nothing = await cli('dead', 'purge');
      expect(nothing.code).toBe(2);
      expect(nothing.stderr).toContain('Nothing selected');
      const dry = await cli('dead', 'purge', '--all', '--dry-run', '--json');
      expect(json(dry)).toMatchObject({ dryRun: true, count: 1, ids: [seeded.deadValidation] });
      expect(await withStore((s) => s.stats('crawl', Date.now()))).toMatchObject({ dead: 1 });
      const done = await cli('dead', 'purge', '--queue', 'crawl', '--json');
      expect(json(done)).toMatchObject({ dryRun: false, count: 1 });
      expect(await withStore((s) => s.stats('crawl', Date.now()))).toMatchObject({ dead: 0 });
    });

    it('usage errors exit 2 with a hint', async () => {
      const [unknownOption, badCategory, noSelection] = await Promise.all([
        cli('stats', '--bogus'),
        cli('dead', 'list', '--category', 'weird'),
        cli('dead', 'requeue'),
      ]);
      expect(unknownOption.code).toBe(2);
      expect(unknownOption.stderr).toContain("unknown option '--bogus'");
      expect(badCategory.code).toBe(2);
      expect(badCategory.stderr).toContain('expected a fault category');
      expect(noSelection.code).toBe(2);
    });
  }, 90_000);
}
