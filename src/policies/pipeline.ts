import { ConfigError } from '../faults/errors.js';
import type { FaultCategory } from '../faults/fault.js';
import { Events } from '../observe/events.js';
import type { FallbackPolicy } from './fallback.js';
import {
  type ExecuteContext,
  type ExecuteOptions,
  type Operation,
  passContext,
  type Policy,
  type PolicyStats,
} from './policy.js';
import { enterCall, isRefused } from './call-entry.js';

/** Anything a pipeline can hold: a policy, a fallback (which widens the result), a pipeline. */
// biome-ignore lint/suspicious/noExplicitAny: stages of any event map and result type compose
export type Stage = Policy<any> | FallbackPolicy<any> | Pipeline<any>;

/** The substitute types the fallbacks among `S` may return. */
export type FallbackResults<S extends readonly Stage[]> = {
  [K in keyof S]: S[K] extends FallbackPolicy<infer R>
    ? R
    : S[K] extends Pipeline<infer R>
      ? R
      : never;
}[number];

/** A known bad order: `outer` placed outside `inner`. */
const MISORDERINGS: readonly { outer: string; inner: string; why: string }[] = [
  {
    outer: 'circuitBreaker',
    inner: 'retry',
    why: 'the breaker sees one failure per request after all retries; put the breaker inside the retry so each attempt counts and an open breaker stops the retries',
  },
  {
    outer: 'timeout',
    inner: 'retry',
    why: 'the timeout bounds all attempts together, waits included; put it inside the retry to bound each attempt (keep it outside only if a total deadline is what you want)',
  },
];

const warned = new Set<string>();

export interface PipelineStats extends PolicyStats {
  /** Each stage's own stats, outermost first. */
  readonly stages: readonly { readonly kind: string; readonly stats: PolicyStats }[];
}

/**
 * Policies composed outermost first: `pipeline(retry, breaker, timeout)` runs the function
 * under the timeout, that under the breaker, that under the retry. Each stage hands its
 * context to the next, so signals, attempts and the operation flow through.
 */
export class Pipeline<Extra = never> {
  readonly kind = 'pipeline';
  /** Pipelines emit nothing themselves; listen on the stages. */
  readonly events = new Events<object>();
  /** The stages, outermost first (nested pipelines flattened). */
  readonly stages: readonly Stage[];
  /** The order warnings found at construction (each is also emitted once per process). */
  readonly warnings: readonly string[];

  constructor(stages: readonly Stage[]) {
    if (stages.length === 0) throw new ConfigError('pipeline', stages, 'at least one policy');
    const flat: Stage[] = [];
    stages.forEach((stage, i) => {
      if (stage instanceof Pipeline) flat.push(...stage.stages);
      else if (
        typeof stage === 'object' &&
        stage !== null &&
        typeof stage.execute === 'function' &&
        typeof stage.kind === 'string'
      )
        flat.push(stage);
      else
        throw new ConfigError(
          `pipeline[${i}]`,
          stage,
          'a policy (retry(), timeout(), circuitBreaker(), ...)',
        );
    });
    this.stages = Object.freeze(flat);
    this.warnings = Object.freeze(findMisorderings(flat));
    for (const warning of this.warnings) {
      if (warned.has(warning)) continue;
      warned.add(warning);
      process.emitWarning(warning, { code: 'FAULTLINE_PIPELINE_ORDER' });
    }
  }

  execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T | Extra> {
    // Checked here, not only by the innermost stage: a bad `fn` must not pass through the retries.
    const entry = enterCall(fn, options);
    if (isRefused(entry)) return entry.promise();
    // Checked options travel on as the context they made, so no stage checks them again.
    return this.run(
      0,
      fn as Operation<T | Extra>,
      options === undefined ? undefined : passContext(entry),
    );
  }

  /** One line per stage, outermost first. */
  describe(): string {
    return this.stages.map((stage, i) => `${i + 1}. ${stage.describe()}`).join('\n');
  }

  /** The outermost stage's counters (what callers saw), with rejections and retries summed over all stages. */
  stats(): PipelineStats {
    const stages = this.stages.map((stage) => ({ kind: stage.kind, stats: stage.stats() }));
    const outer = stages[0]!.stats;
    const failuresByCategory: Partial<Record<FaultCategory, number>> = {
      ...outer.failuresByCategory,
    };
    let rejections = 0;
    let retries = 0;
    for (const { stats } of stages) {
      rejections += stats.rejections;
      retries += stats.retries;
    }
    return { ...outer, failuresByCategory, rejections, retries, stages };
  }

  private run<T>(index: number, fn: Operation<T>, options: ExecuteOptions | undefined): Promise<T> {
    const stage = this.stages[index]!;
    if (index === this.stages.length - 1) return stage.execute(fn, options) as Promise<T>;
    return stage.execute(
      (context: ExecuteContext) => this.run(index + 1, fn, passContext(context)),
      options,
    ) as Promise<T>;
  }
}

function findMisorderings(stages: readonly Stage[]): string[] {
  const found: string[] = [];
  for (const rule of MISORDERINGS) {
    const outer = stages.findIndex((s) => s.kind === rule.outer);
    const inner = stages.findLastIndex((s) => s.kind === rule.inner);
    if (outer !== -1 && inner !== -1 && outer < inner) {
      found.push(`faultline pipeline: ${rule.outer} outside ${rule.inner}: ${rule.why}.`);
    }
  }
  return found;
}

/** Composes policies, outermost first. The result type widens with any fallback's substitute. */
export function pipeline<const S extends readonly Stage[]>(
  ...stages: S
): Pipeline<FallbackResults<S>> {
  return new Pipeline<FallbackResults<S>>(stages);
}
