import type { Redis } from 'ioredis';
import type {
  SharedBreakerState,
  SharedBudgetState,
  SharedLimiterState,
  SharedStateReport,
} from '../../durable/store.js';
import { escapeKeyPart, unescapeKeyPart } from './keys.js';

/**
 * Finds the breakers (`{prefix:cb:name}:state|probe`), rate limiters (`{prefix:rl:name}:bucket`)
 * and retry budgets (`{prefix:rb:name}:window`) under a prefix. They register nowhere, so this
 * SCANs the keyspace with a MATCH pattern, bounded: on a store holding millions of job keys it
 * stops after `maxKeysExamined` and says the report may be incomplete.
 */
export async function readSharedState(
  client: Redis,
  prefix: string,
  maxKeysExamined = 200_000,
): Promise<SharedStateReport> {
  const glob = escapeKeyPart(prefix).replace(/[*?[\]\\]/g, (ch) => `\\${ch}`);
  // [cr][bl] matches cb, rl and rb (and cl, which faultline never writes).
  const pattern = `{${glob}:[cr][bl]:*`;
  const found = new Map<string, Set<string>>();
  let cursor = '0';
  let examined = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 2_000);
    cursor = next;
    examined += 2_000;
    for (const key of keys) {
      const match = /^\{[^:}]*:(cb|rl|rb):([^}]*)\}:(state|probe|bucket|window)$/.exec(key);
      if (!match) continue;
      const id = `${match[1]}:${match[2]}`;
      const parts = found.get(id) ?? new Set<string>();
      parts.add(match[3]!);
      found.set(id, parts);
    }
  } while (cursor !== '0' && examined < maxKeysExamined);

  const breakers: SharedBreakerState[] = [];
  const limiters: SharedLimiterState[] = [];
  const budgets: SharedBudgetState[] = [];
  const tagOf = (kind: string, escapedName: string) =>
    `{${escapeKeyPart(prefix)}:${kind}:${escapedName}}`;
  for (const [id, parts] of [...found].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const kind = id.slice(0, 2);
    const escapedName = id.slice(3);
    const name = unescapeKeyPart(escapedName);
    const tag = tagOf(kind, escapedName);
    if (kind === 'cb') {
      const [state, probe] = await Promise.all([
        client.hmget(`${tag}:state`, 'openUntil', 'by'),
        parts.has('probe') ? client.get(`${tag}:probe`) : null,
      ]);
      const openUntil = state[0] === null ? null : Number(state[0]);
      breakers.push({
        name,
        openUntil,
        ...(state[1] ? { openedBy: state[1] } : {}),
        ...(probe ? { probeHolder: probe } : {}),
      });
    } else if (kind === 'rl') {
      const [tokens, at] = await client.hmget(`${tag}:bucket`, 'tokens', 'at');
      if (tokens !== null && at !== null)
        limiters.push({ name, tokens: Number(tokens), at: Number(at) });
    } else {
      const window = await client.hgetall(`${tag}:window`);
      let requests = 0;
      let retries = 0;
      for (const value of Object.values(window)) {
        const [calls, retried] = value.split(':');
        requests += Number(calls) || 0;
        retries += Number(retried) || 0;
      }
      budgets.push({ name, requests, retries });
    }
  }
  return { breakers, limiters, budgets, complete: cursor === '0' };
}
