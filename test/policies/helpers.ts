/** Small builders shared by the policy tests. */
export function httpError(status: number, headers?: Record<string, string>): Error {
  return Object.assign(new Error(`HTTP ${status}`), { status, ...(headers ? { headers } : {}) });
}

export function networkError(code = 'ECONNRESET'): Error {
  return Object.assign(new Error(`socket ${code}`), { code });
}

/** A promise that settles at once with `outcome`, so its state can be read after a flush. */
export function track<T>(promise: Promise<T>): { settled: () => boolean; result: Promise<T> } {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  return { settled: () => settled, result: promise };
}
