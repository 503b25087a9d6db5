#!/usr/bin/env node
// The `faultline` command: parse, run, map every error to one line and a meaningful exit code.
import { CommanderError } from 'commander';
import { NotAFaultlineStoreError, SchemaVersionError } from '../durable/errors.js';
import { MissingPeerError } from '../faults/errors.js';
import { CliError, EXIT } from './exit-codes.js';
import { createProgram } from './program.js';
import { printable } from './output.js';
import { redact as scrub } from './redact.js';

/** Every line to stderr is scrubbed of credentials and of control characters. */
function redact(text: string): string {
  return printable(scrub(text), { keepNewlines: true });
}

export async function run(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    // A command that ends with a code of its own (the demo: 130 after Ctrl-C) sets process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and --version end through here too, with exit code 0; commander already printed.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof CliError) {
    process.stderr.write(
      `faultline: ${redact(error.message)}\n${error.hint ? `  ${error.hint}\n` : ''}`,
    );
    return error.exitCode;
  }
  if (error instanceof NotAFaultlineStoreError || error instanceof SchemaVersionError) {
    process.stderr.write(`faultline: ${redact(error.message)}\n`);
    return EXIT.storeNotFound;
  }
  if (error instanceof MissingPeerError) {
    process.stderr.write(`faultline: ${error.message}\n`);
    return EXIT.missingPeer;
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`faultline: ${redact(message)}\n`);
  return EXIT.failure;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`faultline: ${redact(String(error))}\n`);
    process.exitCode = EXIT.failure;
  },
);
