import { ConfigError } from '../faults/errors.js';

/**
 * Around-hooks for instrumentation (tracing) that the core does not know about: an interceptor
 * gets the subject and a `proceed` that runs the rest of the chain and the work itself. The
 * first one added is the outermost. With none added, the owner skips the chain entirely, so an
 * uninstrumented queue or worker pays one length check.
 */
export type Interceptor<S, R> = (subject: S, proceed: () => Promise<R>) => Promise<R>;

export class InterceptorChain<S, R> {
  private list: readonly Interceptor<S, R>[] = [];

  get size(): number {
    return this.list.length;
  }

  /** Adds an interceptor; returns a function that removes it. */
  add(interceptor: Interceptor<S, R>): () => void {
    if (typeof interceptor !== 'function')
      throw new ConfigError('interceptor', interceptor, 'a function (subject, proceed) => Promise');
    // Copy on write: a run in progress keeps the chain it started with.
    this.list = [...this.list, interceptor];
    return () => {
      this.list = this.list.filter((i) => i !== interceptor);
    };
  }

  /** Runs `work` inside every interceptor, outermost first. */
  run(subject: S, work: () => Promise<R>): Promise<R> {
    const list = this.list;
    const at = (index: number): Promise<R> =>
      index === list.length ? work() : list[index]!(subject, () => at(index + 1));
    return at(0);
  }
}
