import { Command, Option } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { registerCheckpoints } from './commands/checkpoints.js';
import { registerConfig } from './commands/config.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerDead } from './commands/dead.js';
import { registerDemo } from './commands/demo.js';
import { registerMigrate } from './commands/migrate.js';
import { registerStats } from './commands/stats.js';

/** Commands register themselves here; `demo` is added by main.ts so tests can build the rest alone. */
export function createProgram(): Command {
  const program = new Command('faultline')
    .description(
      'Error recovery for Node.js services and workers: run the demo, inspect queues, dead letters and checkpoints.',
    )
    .version(pkg.version, '-V, --version')
    .addOption(
      new Option(
        '-s, --store <location>',
        'sqlite:PATH, redis://[user:pass@]host:port[/db], postgres://[user:pass@]host:port/db',
      )
        .env('FAULTLINE_STORE')
        .default('sqlite:./faultline.db'),
    )
    .option(
      '--redis-prefix <prefix>',
      'key prefix of a Redis store (default faultline; the demo uses faultline-demo)',
    )
    .option(
      '--pg-schema <name>',
      'PostgreSQL schema of a postgres:// store (default faultline; the demo uses faultline_demo)',
    )
    .option('--json', 'machine-readable output on stdout')
    .showHelpAfterError('(run `npx faultline --help` for usage)')
    .enablePositionalOptions(false)
    .exitOverride();
  registerDemo(program);
  registerStats(program);
  registerDead(program);
  registerCheckpoints(program);
  registerConfig(program);
  registerDashboard(program);
  registerMigrate(program);
  program.addHelpText(
    'after',
    [
      '',
      'Exit codes: 0 ok, 1 failure, 2 usage error, 3 store not found or unreachable, 4 record not found, 5 optional dependency missing, 130 interrupted.',
      'Examples:',
      '  npx faultline demo                              crawl 2,000 items from a flaky local API on ./faultline-demo.db',
      '  npx faultline stats --store sqlite:./faultline-demo.db',
      '  npx faultline dead list --category validation --json',
      '  npx faultline dead requeue --queue crawl --dry-run',
      '  npx faultline config                            check the FAULTLINE_* environment variables',
      '  npx faultline dashboard --store sqlite:./faultline-demo.db   the web dashboard on http://127.0.0.1:4800/',
      '  npx faultline migrate --store postgres://app@db/app --dry-run   print the SQL of the PostgreSQL schema',
    ].join('\n'),
  );
  return program;
}
