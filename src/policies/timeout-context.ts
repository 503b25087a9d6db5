import type { Fault } from '../faults/fault.js';
import { NEVER_ABORTED, type ExecuteContext, type OperationContext } from './policy.js';
import { budgetOf, markBudget } from './retry-budget.js';

/**
 * A context whose signal can be aborted by the policy that made it (a timeout, a losing
 * hedge) and by the caller's signal. The AbortController is created only when the function
 * reads `signal`: a function that never looks at it costs no controller and no listener.
 */
export class AbortableContext implements ExecuteContext {
  // One of these is made per call, so it is kept cheap to build: few fields, assigned in the
  // constructor, and no subclasses (a derived constructor costs measurably more per call in V8; the
  // timeout and hedge runs hold a context rather than extend it).
  private readonly parent: ExecuteContext;
  private controller: AbortController | undefined;
  /** The reason this context was aborted before anyone read its signal. */
  private pendingReason: unknown;
  private aborted: boolean;
  private released: boolean;
  private onParentAbort: (() => void) | undefined;

  constructor(parent: ExecuteContext) {
    this.parent = parent;
    this.controller = undefined;
    this.pendingReason = undefined;
    this.aborted = false;
    this.released = false;
    this.onParentAbort = undefined;
    const budget = budgetOf(parent);
    if (budget !== undefined) markBudget(this, budget);
  }

  get attempt(): number {
    return this.parent.attempt;
  }

  get previousFault(): Fault | undefined {
    return this.parent.previousFault;
  }

  get operation(): OperationContext | undefined {
    return this.parent.operation;
  }

  private get parentSignal(): AbortSignal {
    return this.parent.signal;
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
