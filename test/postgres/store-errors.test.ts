import { inspect } from 'node:util';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreConnectionError, StoreError } from '../../src/durable/store-errors.js';
import { ConfigError } from '../../src/faults/errors.js';
import { toPostgresStoreError } from '../../src/stores/postgres/errors.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { PrivateServer } from './private-server.js';
import { dropSchema, sharedPool, uniqueSchema } from './shared-postgres.js';

/**
 * What a failing PostgreSQL store throws: typed (StoreConnectionError for a server that is away,
 * StoreError for a statement), classified for the worker's plan, and with no credential in its
 * message, cause, stack, JSON or inspect output.
 */
const SECRET = 'pw-hunter22-s3cr3t';
const everything = (error: unknown) =>
  `${String(error)}\n${(error as Error).stack}\n${JSON.stringify(error)}\n${inspect(error, { depth: 10, showHidden: true })}`;

const pool = sharedPool(2);
const schemas: string[] = [];
afterAll(async () => {
  for (const schema of schemas) await dropSchema(pool, schema);
  await pool.end();
});

describe('PostgreSQL store errors', () => {
  it('a refused connection is a retryable network StoreConnectionError naming host and port only', async () => {
    const store = new PostgresStore({
      connectionString: `postgres://postgres:${SECRET}@127.0.0.1:1/db`,
      listen: false,
    });
    const error = await store.ping().catch((e: unknown) => e);
    await store.close();
    expect(error).toBeInstanceOf(StoreConnectionError);
    expect(error).toMatchObject({
      category: 'network',
      retryable: true,
      code: 'ECONNREFUSED',
      target: 'postgres://127.0.0.1:1/db',
    });
    expect(everything(error)).not.toContain(SECRET);
  });

  it('open() rejects with the same typed, scrubbed error as any later call', async () => {
    const error = await PostgresStore.open({
      connectionString: `postgres://postgres:${SECRET}@127.0.0.1:1/db`,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreConnectionError);
    expect(error).toMatchObject({ category: 'network', code: 'ECONNREFUSED' });
    expect(everything(error)).not.toContain(SECRET);
  });

  it('a connection string that is no URL is a ConfigError at the constructor, credentials redacted', () => {
    for (const url of [
      `postgres://postgres:${SECRET}@127.0.0.1:99999/db`,
      `postgres://postgres:${SECRET}@[::1/db`,
    ]) {
      let error: unknown;
      try {
        new PostgresStore({ connectionString: url, listen: false });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('postgresStore.connectionString');
      expect(everything(error)).not.toContain(SECRET);
    }
  });

  it('a frozen server is a retryable timeout once the query timeout passes', async () => {
    const server = await PrivateServer.create();
    const store = await PostgresStore.open({
      connectionString: server.url.replace('postgres@', `postgres:${SECRET}@`),
      listen: false,
      poolOptions: { query_timeout: 300 },
    });
    try {
      server.signal('SIGSTOP');
      const error = await store.ping().catch((e: unknown) => e);
      server.signal('SIGCONT');
      expect(error).toBeInstanceOf(StoreConnectionError);
      expect(error).toMatchObject({ category: 'timeout', retryable: true });
      expect(everything(error)).not.toContain(SECRET);
      await store.ping();
    } finally {
      await store.close();
      server.destroy();
    }
  }, 60_000);

  it('a terminated backend is a retryable network StoreConnectionError', async () => {
    const server = await PrivateServer.create();
    const store = await PostgresStore.open({
      connectionString: server.url,
      listen: false,
      poolOptions: { application_name: 'faultline-errors-test' },
    });
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      // The store's one connection runs a statement that waits on a lock the admin holds.
      await store.putCheckpoint('k', 'v0', 1);
      await admin.query('BEGIN');
      await admin.query('LOCK TABLE faultline.checkpoints IN ACCESS EXCLUSIVE MODE');
      const pending = store.putCheckpoint('k', 'v1', 2).catch((e: unknown) => e);
      for (let i = 0; i < 500; i++) {
        const { rows } = await pool
          .query('SELECT 1')
          .then(() =>
            admin.query(
              "SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE application_name = 'faultline-errors-test' AND wait_event_type = 'Lock'",
            ),
          );
        if (rows.length > 0) break;
      }
      const error = await pending;
      expect(error).toBeInstanceOf(StoreConnectionError);
      expect(error).toMatchObject({ category: 'network', retryable: true, code: '57P01' });
      await admin.query('ROLLBACK');
      // The pool replaces the connection: the next call works.
      await store.putCheckpoint('k', 'v2', 3);
      expect((await store.getCheckpoint('k'))?.value).toBe('v2');
    } finally {
      await admin.end();
      await store.close();
      server.destroy();
    }
  }, 60_000);

  it('a failing statement is a StoreError with its SQLSTATE and no row values', async () => {
    const schema = uniqueSchema('err');
    schemas.push(schema);
    const store = await PostgresStore.open({ pool, schema, listen: false });
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT 1/0').catch(() => undefined);
      const error = await store
        .enqueue(
          [{ queue: 'q', payload: '{}', runAt: 0, priority: 0, maxAttempts: 1 }] as never,
          0,
          {
            tx: client,
          },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect(error).not.toBeInstanceOf(StoreConnectionError);
      expect(error).toMatchObject({ code: '25P02' });
      expect((error as StoreError).cause).toEqual({
        name: 'error',
        message: expect.stringContaining('aborted'),
        code: '25P02',
      });
    } finally {
      await client.query('ROLLBACK');
      client.release();
      await store.close();
    }
  });

  it('never lets a password through, whatever the driver put in its message', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.constantFrom('ECONNRESET', '28P01', '57P01', '23505', '08006', 'ETIMEDOUT', undefined),
        (before, after, code) => {
          const raw = Object.assign(
            new Error(`${before}postgres://u:${SECRET}@h:5432/db ${SECRET}${after}`),
            code === undefined ? {} : { code },
            { detail: `Key (id)=(${SECRET})`, where: SECRET },
          );
          const error = toPostgresStoreError(raw, {
            target: 'postgres://h:5432/db',
            secrets: [SECRET],
          });
          expect(error).toBeInstanceOf(StoreError);
          expect(everything(error)).not.toContain(SECRET);
          if (code === '28P01') expect(error).toMatchObject({ category: 'auth', retryable: false });
        },
      ),
    );
  });
});
