import { createServer } from 'node:http';
import type { Command } from 'commander';
import { checkBindAddress } from '../../dashboard/bind.js';
import { createDashboard } from '../../dashboard/handler.js';
import { ConfigError } from '../../faults/errors.js';
import { globalsOf } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { createOutput } from '../output.js';
import { parsePort } from '../parse.js';
import { redact } from '../redact.js';
import { openStore, parseStoreOption } from '../store.js';

interface DashboardCliOptions {
  port: number;
  host: string;
  token?: string;
  readOnly?: boolean;
}

export const TOKEN_VARIABLE = 'FAULTLINE_DASHBOARD_TOKEN';

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description(
      "serve the operators' web dashboard for the store: queues, dead letters (requeue, purge), checkpoints, shared state",
    )
    .option('-p, --port <port>', 'port to listen on (0 = any free port)', parsePort, 4800)
    .option(
      '--host <address>',
      'address to listen on; anything but loopback needs a token',
      '127.0.0.1',
    )
    .option(
      '--token <token>',
      `access token (at least 16 characters; prefer the ${TOKEN_VARIABLE} variable: arguments show in ps)`,
    )
    .option('--read-only', 'show everything, change nothing')
    .action(async (options: DashboardCliOptions, command: Command) => {
      await serve(options, command);
    });
}

async function serve(options: DashboardCliOptions, command: Command): Promise<void> {
  const globals = globalsOf(command);
  const out = createOutput(globals.json === true);
  const token = options.token ?? (process.env[TOKEN_VARIABLE] || undefined);
  try {
    checkBindAddress(options.host, { token });
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new CliError(
        `Refusing to serve the dashboard on ${options.host} without a token: it can requeue and purge jobs`,
        EXIT.usage,
        `Set ${TOKEN_VARIABLE} (or --token), or keep the default --host 127.0.0.1`,
      );
    }
    throw error;
  }
  const location = parseStoreOption(globals.store);
  const opened = await openStore(location, {
    create: false,
    ...(globals.redisPrefix === undefined ? {} : { prefix: globals.redisPrefix }),
  });
  let handler: ReturnType<typeof createDashboard>;
  try {
    handler = createDashboard({
      store: opened.store,
      readOnly: options.readOnly === true,
      ...(token === undefined ? {} : { token }),
    });
  } catch (error) {
    await opened.store.close();
    if (error instanceof ConfigError && error.option === 'token')
      throw new CliError(`Invalid dashboard token: ${error.message}`, EXIT.usage);
    throw error;
  }
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  }).catch(async (error: unknown) => {
    await opened.store.close();
    throw new CliError(
      `Cannot listen on ${options.host}:${options.port}: ${redact((error as Error).message)}`,
      EXIT.failure,
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}/`;
  out.result(
    { url, store: opened.label, readOnly: options.readOnly === true, token: token !== undefined },
    () =>
      `faultline dashboard on ${url} (store ${opened.label}${options.readOnly ? ', read-only' : ''})`,
  );
  if (token !== undefined)
    out.note(`Open ${url}?token=<your token> once; the browser keeps a session cookie.`);
  out.note('Ctrl-C stops it.');
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close(() => resolve());
      // Open keep-alive connections (live refresh) would hold close() up.
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await opened.store.close();
}
