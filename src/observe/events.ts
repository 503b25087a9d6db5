/**
 * A tiny typed event hub. Emitters check `has(type)` before building an event object, so
 * events nobody listens to cost one property read.
 */
export type Listener<E> = (event: E) => void;

/**
 * The subscribing half of an event hub, all an adapter needs. An adapter that asks for
 * `{ events: EventHub<Pick<WorkerEvents, 'retry'>> }` only accepts emitters that declare `retry`.
 */
export interface EventHub<M extends object> {
  on<K extends keyof M>(type: K, listener: Listener<M[K]>): () => void;
}

/** Anything whose `events` declare the events of `M`. */
export interface Emitter<M extends object> {
  readonly events: EventHub<M>;
}

export class Events<M extends object> {
  private listeners: { [K in keyof M]?: Listener<M[K]>[] } = {};

  /** Subscribes; returns a function that unsubscribes. */
  on<K extends keyof M>(type: K, listener: Listener<M[K]>): () => void {
    const list = this.listeners[type];
    // Copy on write: an emit in progress keeps iterating the list it started with.
    this.listeners[type] = list ? [...list, listener] : [listener];
    return () => {
      const current = this.listeners[type];
      if (!current) return;
      const next = current.filter((l) => l !== listener);
      if (next.length === 0) delete this.listeners[type];
      else this.listeners[type] = next;
    };
  }

  /** Subscribes for one event only. */
  once<K extends keyof M>(type: K, listener: Listener<M[K]>): () => void {
    const off = this.on(type, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  has<K extends keyof M>(type: K): boolean {
    return this.listeners[type] !== undefined;
  }

  /**
   * Delivers an event. A listener that throws does not break the emitter nor the other
   * listeners; the error is reported on the next tick where it cannot be lost.
   */
  emit<K extends keyof M>(type: K, event: M[K]): void {
    const list = this.listeners[type];
    if (list === undefined) return;
    for (const listener of list) {
      try {
        listener(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
