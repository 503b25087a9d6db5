/**
 * The README's 30-second example, kept here so that it is type-checked and tested
 * (test/examples/quickstart.test.ts). Run it: `npx tsx examples/quickstart/main.ts`.
 */
// In your code: import { circuitBreaker, pipeline, retry, timeout } from 'faultline';
import { circuitBreaker, pipeline, retry, timeout } from '../../src/index.js';

// Outermost first: retry around a breaker around a 2-second timeout.
export const upstream = pipeline(
  retry({ maxAttempts: 5 }), // decisions come from the default recovery plan
  circuitBreaker({ trigger: { kind: 'consecutive', failures: 5 }, halfOpenAfter: 10_000 }),
  timeout(2_000),
);

export async function fetchItem(baseUrl: string, id: number): Promise<unknown> {
  return upstream.execute(
    async ({ signal }) => {
      const response = await fetch(`${baseUrl}/items/${id}`, { signal });
      if (!response.ok) throw response; // a thrown Response is classified by its status
      return response.json();
    },
    { operation: { name: 'fetch_item', attributes: { id } } },
  );
}
