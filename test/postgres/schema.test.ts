import { afterAll, describe, expect, it } from 'vitest';
import { NotAFaultlineStoreError, SchemaVersionError } from '../../src/durable/errors.js';
import { ConfigError } from '../../src/faults/errors.js';
import {
  migrationStatements,
  PostgresStore,
  SCHEMA_VERSION,
} from '../../src/stores/postgres/index.js';
import { dropSchema, SHARED_POSTGRES_URL, sharedPool, uniqueSchema } from './shared-postgres.js';

const pool = sharedPool(4);
const schemas: string[] = [];
const fresh = (label: string) => {
  const schema = uniqueSchema(label);
  schemas.push(schema);
  return schema;
};
afterAll(async () => {
  for (const schema of schemas) await dropSchema(pool, schema);
  await pool.end();
});

describe('PostgreSQL schema and migrations', () => {
  it('ten processes opening at once migrate the schema once', async () => {
    const schema = fresh('mig');
    // Ten stores with pools of their own: ten connections racing, as ten processes would.
    const stores = await Promise.all(
      Array.from({ length: 10 }, () =>
        PostgresStore.open({ connectionString: SHARED_POSTGRES_URL, schema, listen: false }),
      ),
    );
    const versions = await pool.query(`SELECT version FROM "${schema}".schema_version`);
    // Each version applied exactly once, in order.
    expect(versions.rows).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })),
    );
    const [id] = await stores[3]!.enqueue([{ queue: 'q', payload: '1', priority: 0, runAt: 0 }], 0);
    expect((await stores[7]!.getJob(id!.id))?.payload).toBe('1');
    await Promise.all(stores.map((s) => s.close()));
  });

  it('migrates a version 1 schema in place: its jobs keep running, without headers, with strikes counted', async () => {
    const schema = fresh('v1');
    const all = migrationStatements(schema, 0);
    const v1 = all.slice(0, all.findIndex((statement) => statement.endsWith('VALUES (1)')) + 1);
    for (const statement of v1) await pool.query(statement);
    await pool.query(
      `INSERT INTO "${schema}".jobs (queue, state, payload, priority, run_at, enqueued_at) VALUES ('q', 0, '"old"', 0, 0, 0)`,
    );
    const store = await PostgresStore.open({ pool, schema, listen: false, databaseClock: false });
    const [job] = await store.claim({
      queue: 'q',
      workerId: 'w',
      limit: 5,
      leaseMs: 1_000,
      now: 10,
      maxStrikes: 3,
    });
    expect(job).toMatchObject({ payload: '"old"', attempt: 1, strikes: 0 });
    expect(job?.headers).toBeUndefined();
    expect((await store.getJob(job!.id))?.headers).toBeUndefined();
    await store.close();
  });

  it('refuses a schema written by a newer faultline, writing nothing', async () => {
    const schema = fresh('newer');
    const store = await PostgresStore.open({ pool, schema, listen: false });
    await store.close();
    await pool.query(
      `INSERT INTO "${schema}".schema_version (version) VALUES (${SCHEMA_VERSION + 1})`,
    );
    const error = await PostgresStore.open({ pool, schema, listen: false }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SchemaVersionError);
    expect((error as SchemaVersionError).found).toBe(SCHEMA_VERSION + 1);
  });

  it('refuses a schema holding other tables, and one not yet migrated when migrate is false', async () => {
    const other = fresh('other');
    await pool.query(`CREATE SCHEMA "${other}"; CREATE TABLE "${other}".orders (id int)`);
    await expect(PostgresStore.open({ pool, schema: other, listen: false })).rejects.toBeInstanceOf(
      NotAFaultlineStoreError,
    );
    const tables = await pool.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
      [other],
    );
    expect(tables.rows).toEqual([{ table_name: 'orders' }]);
    const empty = fresh('nomig');
    await expect(
      PostgresStore.open({ pool, schema: empty, migrate: false, listen: false }),
    ).rejects.toThrow(/faultline migrate/);
    expect(
      (await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [empty])).rowCount,
    ).toBe(0);
  });

  it('prints the migration as SQL for teams that migrate in their own pipeline', () => {
    const sql = migrationStatements('app_jobs', 0).join(';\n');
    expect(sql).toMatch(/CREATE SCHEMA IF NOT EXISTS "app_jobs"/);
    expect(sql).toMatch(/CREATE UNIQUE INDEX jobs_idempotency/);
    expect(sql).toMatch(/FOR UPDATE SKIP LOCKED/);
    expect(migrationStatements('app_jobs', SCHEMA_VERSION)).toEqual([]);
  });

  it('checks its options where they enter, and never shows a password', async () => {
    expect(() => new PostgresStore({ schema: 'x' } as never)).toThrow(ConfigError);
    expect(() => new PostgresStore({ connectionString: 'mysql://u:hunter22@h/db' })).toThrow(
      ConfigError,
    );
    expect(() => new PostgresStore({ connectionString: 'mysql://u:hunter22@h/db' })).not.toThrow(
      /hunter22/,
    );
    expect(() => new PostgresStore({ pool, schema: 'bad-name; drop' })).toThrow(/schema/);
    expect(() => new PostgresStore({ pool: {} as never })).toThrow(ConfigError);
    const store = new PostgresStore({
      connectionString: 'postgres://app:s3cr3t-pw@127.0.0.1:1/db',
      listen: false,
    });
    expect(String(store)).toBe('PostgresStore(postgres://127.0.0.1:1/db, schema "faultline")');
    expect(JSON.stringify(store)).not.toContain('s3cr3t');
    const error = (await store.ping().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(`${error.message}\n${error.stack}`).not.toContain('s3cr3t-pw');
    await store.close();
  });

  it('leaves a pool it was given open, and ends one it created', async () => {
    const store = await PostgresStore.open({ pool, schema: fresh('own'), listen: false });
    await store.close();
    await store.close();
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await expect(store.ping()).rejects.toThrow(/closed/);
  });
});

describe('PostgreSQL settle and renew batches', () => {
  it('judge each outcome by id and token: a stale run next to the current run of one job is lost', async () => {
    const store = await PostgresStore.open({
      pool,
      schema: fresh('stale'),
      listen: false,
      databaseClock: false,
    });
    const { id } = (
      await store.enqueue([{ queue: 'q', payload: '1', priority: 0, runAt: 0 }], 0)
    )[0]!;
    const [first] = await store.claim({
      queue: 'q',
      workerId: 'w',
      limit: 1,
      leaseMs: 10,
      now: 0,
      maxStrikes: 5,
    });
    const [second] = await store.claim({
      queue: 'q',
      workerId: 'w',
      limit: 1,
      leaseMs: 1_000,
      now: 10,
      maxStrikes: 5,
    });
    expect(second!.id).toBe(id);
    const stale = { id, token: first!.token };
    const current = { id, token: second!.token };
    expect(await store.renew([stale, current], 1_000, 20)).toEqual([id]);
    const { lost } = await store.settle(
      [
        { ...stale, kind: 'complete' },
        { ...current, kind: 'complete' },
      ],
      30,
    );
    expect(lost).toEqual([id]);
    expect((await store.getJob(id))?.state).toBe('completed');
    await store.close();
  });
});

describe('PostgreSQL lease clock', () => {
  it('a claim whose now is stale starts its lease at the database clock; databaseClock false keeps the caller now', async () => {
    const dbClock = await PostgresStore.open({ pool, schema: fresh('clock'), listen: false });
    await dbClock.enqueue([{ queue: 'q', payload: '1', priority: 0, runAt: 0 }], 0);
    const before = Date.now();
    // The request was made a minute ago (a stalled process, a slow connect): its lease must not be expired already.
    const [job] = await dbClock.claim({
      queue: 'q',
      workerId: 'w',
      limit: 1,
      leaseMs: 5_000,
      now: before - 60_000,
      maxStrikes: 3,
    });
    expect(job!.leaseUntil).toBeGreaterThanOrEqual(before + 5_000 - 1_000);
    expect(await dbClock.renew([job!], 5_000, before - 60_000)).toEqual([]);
    expect((await dbClock.getJob(job!.id))!.leaseUntil).toBeGreaterThanOrEqual(
      before + 5_000 - 1_000,
    );
    await dbClock.close();
    const callerClock = await PostgresStore.open({
      pool,
      schema: fresh('clock'),
      listen: false,
      databaseClock: false,
    });
    await callerClock.enqueue([{ queue: 'q', payload: '1', priority: 0, runAt: 0 }], 0);
    const [virtual] = await callerClock.claim({
      queue: 'q',
      workerId: 'w',
      limit: 1,
      leaseMs: 5_000,
      now: 1_000,
      maxStrikes: 3,
    });
    expect(virtual!.leaseUntil).toBe(6_000);
    await callerClock.close();
  });
});

describe('PostgreSQL async claim commits', () => {
  it('asyncClaimCommit claims as usual and leaves the session setting alone', async () => {
    const store = await PostgresStore.open({
      pool,
      schema: fresh('async'),
      listen: false,
      asyncClaimCommit: true,
      databaseClock: false,
    });
    await store.enqueue([{ queue: 'q', payload: '1', priority: 0, runAt: 0 }], 0);
    const [job] = await store.claim({
      queue: 'q',
      workerId: 'w',
      limit: 1,
      leaseMs: 1_000,
      now: 5,
      maxStrikes: 3,
    });
    expect(job).toMatchObject({ attempt: 1, leaseUntil: 1_005 });
    const settings = await Promise.all(
      Array.from({ length: 4 }, () => pool.query('SHOW synchronous_commit')),
    );
    expect(settings.map((r) => r.rows[0].synchronous_commit)).toEqual(['on', 'on', 'on', 'on']);
    await store.close();
  });
});
