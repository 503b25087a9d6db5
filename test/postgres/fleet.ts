import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

/**
 * Worker processes (worker-child.ts) on one PostgreSQL schema, with a log of every handler run
 * they report, and the audit the fault tests share: no job ran in two live workers at once,
 * and runs per job stay within 1 + the interruptions that hit it.
 */
const CHILD = path.join(import.meta.dirname, 'worker-child.ts');

export interface Instance {
  readonly id: number;
  readonly child: ChildProcess;
  starts: number;
  killedAt?: number;
  readonly exited: Promise<void>;
}

interface Run {
  readonly instance: number;
  readonly start: number;
  end?: number;
}

export class Fleet {
  readonly instances: Instance[] = [];
  readonly runs = new Map<string, Run[]>();
  readonly completions = new Map<string, number>();
  readonly completedBy = new Map<string, number>();
  private waiters: (() => void)[] = [];

  constructor(private readonly env: Record<string, string>) {}

  spawn(): Instance {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const instance: Instance = {
      id: this.instances.length,
      child,
      starts: 0,
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
    };
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const [kind, jobId, at] = line.split(' ');
      if (kind === 'S') {
        instance.starts++;
        const list = this.runs.get(jobId!) ?? [];
        list.push({ instance: instance.id, start: Number(at) });
        this.runs.set(jobId!, list);
      } else if (kind === 'E') {
        const run = this.runs.get(jobId!)?.findLast((r) => r.instance === instance.id);
        if (run) run.end = Number(at);
      } else if (kind === 'C') {
        this.completions.set(jobId!, (this.completions.get(jobId!) ?? 0) + 1);
        this.completedBy.set(jobId!, instance.id);
      }
      for (const resolve of this.waiters.splice(0)) resolve();
    });
    this.instances.push(instance);
    return instance;
  }

  /** Resolves at the next line any worker prints (or after `ms`, so a silent fleet is re-checked). */
  progress(ms = 200): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      setTimeout(resolve, ms).unref();
    });
  }

  async kill(instance: Instance, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (instance.child.exitCode === null && instance.child.signalCode === null)
      instance.child.kill(signal);
    await instance.exited;
    if (signal === 'SIGKILL') instance.killedAt = Date.now();
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.instances.map((i) => this.kill(i, 'SIGTERM')));
  }

  /** Throws when a job ran in two workers at once; returns the re-runs seen. */
  audit(): { reruns: number; overRun: string[] } {
    const deathOf = new Map(
      this.instances.map((i) => [i.id, i.killedAt ?? Number.POSITIVE_INFINITY]),
    );
    let reruns = 0;
    const overRun: string[] = [];
    for (const [id, list] of this.runs) {
      const sorted = [...list].sort((a, b) => a.start - b.start);
      for (let i = 1; i < sorted.length; i++) {
        const previous = sorted[i - 1]!;
        const previousEnd = previous.end ?? deathOf.get(previous.instance)!;
        if (sorted[i]!.start < previousEnd)
          throw new Error(`job ${id} ran in two workers at once: ${JSON.stringify(sorted)}`);
      }
      const interrupted = sorted.filter(
        (r) => Number.isFinite(deathOf.get(r.instance)!) && this.completedBy.get(id) !== r.instance,
      ).length;
      if (sorted.length > 1 + interrupted) overRun.push(id);
      reruns += sorted.length - 1;
    }
    return { reruns, overRun };
  }
}
