import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';

/**
 * The ledger the handlers write, one line per event, each written and fsync'd before the
 * handler goes on (a SIGKILL loses at most the line being written):
 *   S <job> <worker> <token> <attempt> <leaseEnd> <start>   a handler started (wall ms; leaseEnd as the store granted it)
 *   E <job> <worker> <token> <end>                          it returned
 * K <worker> <at> marks a SIGKILL: written by the parent as it sends one, or by a poison job
 * just before it kills its own process.
 */
export class LedgerWriter {
  private readonly fd: number;
  constructor(path: string) {
    this.fd = openSync(path, 'a');
  }
  write(line: string): void {
    writeSync(this.fd, `${line}\n`);
    fsyncSync(this.fd);
  }
  close(): void {
    closeSync(this.fd);
  }
}

export interface RunEntry {
  readonly job: string;
  readonly worker: string;
  readonly token: string;
  readonly attempt: number;
  readonly leaseEnd: number;
  readonly start: number;
  end: number | undefined;
}

export interface Ledger {
  readonly runs: RunEntry[];
  /** Worker → when it was killed. */
  readonly kills: Map<string, number>;
}

export function readLedger(path: string): Ledger {
  const runs: RunEntry[] = [];
  const open = new Map<string, RunEntry>();
  const kills = new Map<string, number>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'S' && f.length === 7) {
      const run: RunEntry = {
        job: f[1]!,
        worker: f[2]!,
        token: f[3]!,
        attempt: Number(f[4]),
        leaseEnd: Number(f[5]),
        start: Number(f[6]),
        end: undefined,
      };
      runs.push(run);
      open.set(`${run.job} ${run.token}`, run);
    } else if (f[0] === 'E' && f.length === 5) {
      const run = open.get(`${f[1]} ${f[3]}`);
      if (run) run.end = Number(f[4]);
    } else if (f[0] === 'K' && f.length === 3) {
      kills.set(f[1]!, Number(f[2]));
    }
  }
  return { runs, kills };
}
