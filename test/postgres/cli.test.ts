import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, SCHEMA_VERSION } from '../../src/stores/postgres/index.js';
import { describeCliSuite } from '../cli/cli-suite.js';
import { json, runCli } from '../cli/run-cli.js';
import { dropSchema, SHARED_POSTGRES_URL, sharedPool, uniqueSchema } from './shared-postgres.js';

// The CLI suite every store passes, on the shared PostgreSQL in a schema of its own.
describeCliSuite('postgres', async () => {
  const schema = uniqueSchema('cli');
  return {
    name: 'postgres',
    args: ['--store', SHARED_POSTGRES_URL, '--pg-schema', schema],
    open: () => new PostgresStore({ connectionString: SHARED_POSTGRES_URL, schema, listen: false }),
    cleanup: async () => {
      const pool = sharedPool(1);
      await dropSchema(pool, schema);
      await pool.end();
    },
  };
});

describe('faultline migrate and demo on PostgreSQL', () => {
  const pool = sharedPool(2);
  const schemas: string[] = [];
  const fresh = () => {
    const schema = uniqueSchema('mcli');
    schemas.push(schema);
    return schema;
  };
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(pool, schema);
    await pool.end();
  });

  it('migrate --dry-run prints the SQL and creates nothing; migrate creates the schema once', async () => {
    const schema = fresh();
    const dry = await runCli([
      'migrate',
      '--dry-run',
      '--store',
      SHARED_POSTGRES_URL,
      '--pg-schema',
      schema,
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`CREATE SCHEMA IF NOT EXISTS "${schema}";`);
    expect(dry.stdout).toContain('FOR UPDATE SKIP LOCKED');
    expect(
      (await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount,
    ).toBe(0);
    // Inspection commands never create a schema: they name the command that does.
    const stats = await runCli(['stats', '--store', SHARED_POSTGRES_URL, '--pg-schema', schema]);
    expect(stats.code).toBe(3);
    expect(stats.stderr).toContain('faultline migrate');
    const done = await runCli([
      'migrate',
      '--json',
      '--store',
      SHARED_POSTGRES_URL,
      '--pg-schema',
      schema,
    ]);
    expect(json(done)).toMatchObject({
      schema,
      fromVersion: 0,
      toVersion: SCHEMA_VERSION,
      dryRun: false,
    });
    const again = await runCli(['migrate', '--store', SHARED_POSTGRES_URL, '--pg-schema', schema]);
    expect(again.stdout).toContain('nothing to do');
    const sqlite = await runCli(['migrate', '--store', 'sqlite:./x.db']);
    expect(sqlite.code).toBe(2);
  }, 60_000);

  it('never shows the password of a postgres:// URL, also when the connection fails', async () => {
    const url = 'postgres://app:pg-s3cret-pass@127.0.0.1:1/app';
    const [stats, migrate] = await Promise.all([
      runCli(['stats', '--store', url]),
      runCli(['migrate', '--dry-run', '--store', url]),
    ]);
    for (const result of [stats, migrate]) {
      expect(result.code).toBe(3);
      expect(result.stderr + result.stdout).not.toContain('pg-s3cret-pass');
      expect(result.stderr).toContain('postgres://***@127.0.0.1:1/app');
    }
  }, 60_000);

  it('demo --store postgres://… runs the crawl into its own schema', async () => {
    const schema = fresh();
    const demo = await runCli([
      'demo',
      '--store',
      SHARED_POSTGRES_URL,
      '--pg-schema',
      schema,
      '--items',
      '120',
      '--concurrency',
      '8',
      '--json',
      '--no-log',
    ]);
    expect(demo.code, demo.stderr).toBe(0);
    const summary = json<{
      items: number;
      finished: boolean;
      totals: { completed: number; dead: number; notEnqueued: number };
    }>(demo);
    expect(summary).toMatchObject({ items: 120, finished: true });
    expect(summary.totals.completed + summary.totals.dead).toBe(120);
    const client = new pg.Client({ connectionString: SHARED_POSTGRES_URL });
    await client.connect();
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${schema}".jobs`);
    await client.end();
    expect(rows[0].n).toBeGreaterThan(0);
  }, 120_000);
});
