import type { Command } from 'commander';
import { ENV_VARIABLES, EnvConfigError, fromEnv, redactUrl } from '../../config/env.js';
import { CliError, EXIT } from '../exit-codes.js';
import { createOutput, table } from '../output.js';
import { globalsOf } from '../context.js';

/**
 * `faultline config`: the FAULTLINE_* configuration this environment gives, each variable with
 * its value and where it came from; every bad value listed at once (exit 2).
 */
export function registerConfig(program: Command): void {
  program
    .command('config')
    .description(
      'check the FAULTLINE_* environment variables: each value and its source; all problems at once',
    )
    .action((_options: unknown, command: Command) => {
      const out = createOutput(globalsOf(command).json === true);
      try {
        fromEnv(process.env);
      } catch (error) {
        if (!(error instanceof EnvConfigError)) throw error;
        if (out.json) out.result({ ok: false, problems: error.problems }, () => '');
        throw new CliError(
          error.message,
          EXIT.usage,
          'Fix these variables (see .env.example for every one with its default)',
        );
      }
      const rows = ENV_VARIABLES.map((v) => {
        const raw = process.env[v.name]?.trim();
        const set = raw !== undefined && raw !== '';
        const shown = v.kind === 'secret' ? '***' : redactUrl(raw ?? '');
        return {
          variable: v.name,
          value: set ? shown : (v.default ?? ''),
          source: set ? 'environment' : 'default',
          meaning: v.description,
        };
      });
      out.result({ ok: true, variables: rows }, () =>
        table(
          ['variable', 'value', 'source'],
          rows.map((r) => [r.variable, r.value || '(no limit)', r.source]),
        ),
      );
    });
}
