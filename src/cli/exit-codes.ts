/**
 * Exit codes of the `faultline` command, stable so scripts can branch on them.
 * 0 ok · 1 the operation failed · 2 usage error · 3 store not found or unreachable ·
 * 4 the named record (dead letter, checkpoint) is not there · 5 an optional dependency is not
 * installed · 130 interrupted (Ctrl-C).
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  storeNotFound: 3,
  notFound: 4,
  missingPeer: 5,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI expects: printed as one line (plus a hint) without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
