import type { Command } from 'commander';
import { globalsOf } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { createOutput } from '../output.js';
import { passwordOf, redact } from '../redact.js';
import { parseStoreOption, storeLabel } from '../store.js';

/**
 * `faultline migrate --store postgres://… [--pg-schema NAME] [--dry-run]`: for teams that apply
 * schema changes in their own pipeline. The dry run prints the SQL and writes nothing; without
 * it the schema is migrated under the same advisory lock stores take when they open it.
 */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(
      'create or migrate the schema of a PostgreSQL store (SQLite and Redis stores migrate themselves)',
    )
    .option('--dry-run', 'print the SQL that would run, change nothing')
    .action(async (options: { dryRun?: boolean }, command: Command) => {
      await migrate(options.dryRun === true, command);
    });
}

async function migrate(dryRun: boolean, command: Command): Promise<void> {
  const globals = globalsOf(command);
  const out = createOutput(globals.json === true);
  const location = parseStoreOption(globals.store);
  if (location.kind !== 'postgres') {
    throw new CliError(
      `faultline migrate is for PostgreSQL stores; ${storeLabel(location)} migrates itself when opened`,
      EXIT.usage,
      'Pass --store postgres://user@host:5432/database',
    );
  }
  const label = storeLabel(location);
  const secrets = [passwordOf(location.url)];
  const backends = await import('../store-backends.js');
  let plan: Awaited<ReturnType<typeof backends.postgresMigrationPlan>>;
  try {
    plan = await backends.postgresMigrationPlan(location.url, globals.pgSchema);
    if (!dryRun && plan.statements.length > 0)
      await backends.migratePostgres(location.url, globals.pgSchema);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code =
      (error as { category?: string }).category === 'permanent' ? EXIT.failure : EXIT.storeNotFound;
    throw new CliError(
      `Cannot migrate the PostgreSQL store at ${label}: ${redact(message, secrets)}`,
      code,
    );
  }
  const sql = plan.statements.map((s) => `${s};`).join('\n\n');
  const data = {
    store: label,
    schema: plan.schema,
    fromVersion: plan.version,
    toVersion: plan.target,
    dryRun,
    statements: plan.statements,
  };
  out.result(data, () => {
    if (plan.statements.length === 0)
      return `Schema ${plan.schema} in ${label} is at version ${plan.version}: nothing to do.`;
    if (dryRun)
      return `-- faultline: schema ${plan.schema} from version ${plan.version} to ${plan.target} (dry run: nothing was changed)\n${sql}`;
    return `Schema ${plan.schema} in ${label} migrated from version ${plan.version} to ${plan.target}.`;
  });
}
