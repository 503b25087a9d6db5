import type { Fault } from '../faults/fault.js';
import { NEVER_ABORTED, type ExecuteContext, type OperationContext } from './policy.js';
import { budgetOf, markBudget } from './retry-budget.js';

/**
 * A context whose signal can be aborted by the policy that made it (a timeout, a losing
 * hedge) and by the caller's signal. The AbortController is created only when the function
 * reads `signal`: a function that never looks at it costs no controller and no listener.
 */
export class AbortableContext implements ExecuteContext {
  readonly attempt: number;
  readonly previousFault: Fault | undefined;
  readonly operation: OperationContext | undefined;
  private readonly parentSignal: AbortSignal;
  private controller: AbortController | undefined;
  /** The reason this context was aborted before anyone read its signal. */
  private pendingReason: unknown;
  private aborted = false;
  private released = false;
  private onParentAbort: (() => void) | undefined;

  constructor(parent: ExecuteContext) {
    this.attempt = parent.attempt;
    this.previousFault = parent.previousFault;
    this.operation = parent.operation;
    this.parentSignal = parent.signal;
    markBudget(this, budgetOf(parent));
  }

  get signal(): AbortSignal {
    if (this.controller !== undefined) return this.controller.signal;
    const controller = new AbortController();
    this.controller = controller;
    if (this.aborted) {
      controller.abort(this.pendingReason);
    } else if (this.parentSignal.aborted) {
      controller.abort(this.parentSignal.reason);
    } else if (!this.released && this.parentSignal !== NEVER_ABORTED) {
      const parent = this.parentSignal;
      this.onParentAbort = () => this.abort(parent.reason);
      parent.addEventListener('abort', this.onParentAbort, { once: true });
    }
    return controller.signal;
  }

  /** Whether the signal was read, i.e. the function can react to an abort. */
  get signalRead(): boolean {
    return this.controller !== undefined;
  }

  /** Aborts this context's signal (now if it was read, else when it is read). */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.release();
    if (this.controller === undefined) this.pendingReason = reason;
    else this.controller.abort(reason);
  }

  /** Detaches from the caller's signal: call when the work is over so nothing is left behind. */
  release(): void {
    this.released = true;
    if (this.onParentAbort !== undefined) {
      this.parentSignal.removeEventListener('abort', this.onParentAbort);
      this.onParentAbort = undefined;
    }
  }
}
