/**
 * Cost of classify() on the errors a service sees most.
 *
 *   npx tsx bench/classify.ts [--json]
 *
 * Target (issue 2): median < 1 µs (1000 ns) for a typical network error and for an HTTP 503.
 * Each case classifies the same error object over and over, as a retry loop would.
 */
import { classify } from '../src/faults/index.js';
import { bench, report } from './lib.js';

const iterations = 200_000;

// What `net` / undici throw for a closed port: an Error with errno fields.
const connRefused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
  errno: -111,
  code: 'ECONNREFUSED',
  syscall: 'connect',
  address: '127.0.0.1',
  port: 9,
});

// What fetch throws for it: TypeError('fetch failed') with the errno error as its cause.
const fetchFailed = new TypeError('fetch failed', { cause: connRefused });

// HTTP 503 in the shapes clients use.
const status503 = { status: 503, message: 'Service Unavailable' };
const response503 = new Response('busy', { status: 503, statusText: 'Service Unavailable' });
const axios503 = Object.assign(new Error('Request failed with status code 503'), {
  response: { status: 503, headers: { 'retry-after': '2' } },
});

const results = [
  bench('network: ECONNREFUSED error', () => classify(connRefused), { iterations }),
  bench('network: fetch failed (cause)', () => classify(fetchFailed), { iterations }),
  bench('http 503: { status }', () => classify(status503), { iterations }),
  bench('http 503: thrown Response', () => classify(response503), { iterations }),
  bench('http 503: axios + Retry-After', () => classify(axios503), { iterations }),
  bench('unknown: plain string', () => classify('boom'), { iterations }),
];

report(results, 'ns/op');
