import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('faultline CLI: stores that are not there', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-cli-missing-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a SQLite file that does not exist exits 3 and is not created', async () => {
    const path = join(dir, 'typo.db');
    const result = await runCli(['stats', '--store', `sqlite:${path}`]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('the file does not exist (nothing was created)');
    expect(existsSync(path)).toBe(false);
  });

  it('a file that is not a faultline store exits 3', async () => {
    const path = join(dir, 'notes.db');
    writeFileSync(path, 'just some text, not SQLite at all\n'.repeat(100));
    const result = await runCli(['dead', 'list', '--store', `sqlite:${path}`]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('is not a faultline store');
  });

  it('an unreachable Redis exits 3 and never prints its password', async () => {
    const result = await runCli([
      'stats',
      '--store',
      'redis://admin:hunter2-secret@127.0.0.1:1/0',
      '--json',
    ]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      'Cannot reach the Redis store at redis://***@127.0.0.1:1/0: Redis connection refused by 127.0.0.1:1',
    );
    expect(result.stderr + result.stdout).not.toContain('hunter2-secret');
  });

  it('a malformed --store is a usage error; FAULTLINE_STORE is read', async () => {
    const bad = await runCli(['stats', '--store', 'mysql://x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'expected sqlite:PATH, redis://host:port, postgres://host:port/database or memory',
    );
    const fromEnv = await runCli(['stats'], {
      env: { FAULTLINE_STORE: `sqlite:${join(dir, 'env.db')}` },
    });
    expect(fromEnv.code).toBe(3);
    expect(fromEnv.stderr).toContain(join(dir, 'env.db'));
  });

  it('--help lists the commands and the exit codes', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const word of ['demo', 'stats', 'dead', 'checkpoints', 'Exit codes'])
      expect(result.stdout).toContain(word);
  });
}, 90_000);

describe('faultline CLI: hints name the store the user gave, in a form that runs', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-cli-hints-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing dead letter or checkpoint hints `npx faultline … --store <that store>`', async () => {
    const path = join(dir, 'hints.db');
    const { SqliteStore } = await import('../../src/stores/sqlite/index.js');
    await new SqliteStore(path).close();
    const dead = await runCli(['dead', 'show', 'nope', '--store', `sqlite:${path}`]);
    expect(dead.code).toBe(4);
    expect(dead.stderr).toContain(
      `List dead letters with: npx faultline dead list --store sqlite:${path}`,
    );
    const checkpoint = await runCli(['checkpoints', 'show', 'nope', '--store', `sqlite:${path}`]);
    expect(checkpoint.code).toBe(4);
    expect(checkpoint.stderr).toContain(
      `List checkpoints with: npx faultline checkpoints list --store sqlite:${path}`,
    );
  });
}, 90_000);
