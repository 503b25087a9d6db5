import type { DurableStore } from '../../src/durable/store.js';

/**
 * A store that can be frozen like a SIGSTOPped server: calls made while frozen are held, in
 * order, and executed one after another on thaw with the arguments they were sent with (their
 * `now` is the sender's, from before the freeze), exactly as Redis answers a socket's backlog.
 */
export interface FreezableStore {
  readonly store: DurableStore;
  freeze(): void;
  thaw(): Promise<void>;
}

export function freezable(inner: DurableStore): FreezableStore {
  let frozen = false;
  const held: (() => Promise<void>)[] = [];
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const call = () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (!frozen) return call();
        return new Promise((resolve, reject) => {
          held.push(() => call().then(resolve, reject));
        });
      };
    },
  });
  return {
    store,
    freeze: () => {
      frozen = true;
    },
    thaw: async () => {
      // Calls made while the backlog drains wait behind it, as on one connection.
      while (held.length > 0) await held.shift()!();
      frozen = false;
    },
  };
}
