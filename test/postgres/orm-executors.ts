import { type SQL, sql } from 'drizzle-orm';
import { CompiledQuery, type Transaction } from 'kysely';
import type { SqlExecutor } from '../../src/durable/store.js';

/**
 * The two adapters docs/postgres.md gives for transactional enqueue through an ORM: each turns
 * the ORM's transaction into `{ query(text, values) }`, so faultline's statement runs on the
 * same connection inside the same transaction.
 */

/** Drizzle (node-postgres driver): `$1`-numbered text becomes raw chunks and bound parameters. */
export function drizzleExecutor(tx: {
  execute(query: SQL): Promise<{ rows: unknown[] }>;
}): SqlExecutor {
  return {
    query: async (text, values = []) => {
      const parts = text.split(/\$(\d+)/);
      const chunks: SQL[] = parts.map((part, i) =>
        i % 2 === 0 ? sql.raw(part) : sql`${sql.param(values[Number(part) - 1])}`,
      );
      const result = await tx.execute(sql.join(chunks));
      return { rows: result.rows };
    },
  };
}

/** Kysely (PostgresDialect): the text and values as a compiled query on the transaction. */
export function kyselyExecutor<DB>(trx: Transaction<DB>): SqlExecutor {
  return { query: (text, values = []) => trx.executeQuery(CompiledQuery.raw(text, values)) };
}
