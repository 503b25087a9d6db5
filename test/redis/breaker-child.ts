/**
 * One process of the shared-breaker test. Talks to the parent over IPC:
 *   in:  { cmd: 'fail', n }                  make n failing calls
 *        { cmd: 'hammer', ms, failUntil }    call in a loop for ms; the dependency fails until failUntil (wall ms)
 *   out: { type: 'ready' } | { type: 'state', to, at, remote } | { type: 'done', probes, state }
 * Env: REDIS_URL, PREFIX, NAME.
 */
import { Redis } from 'ioredis';
import { RedisCircuitBreaker } from '../../src/stores/redis/shared-circuit-breaker.js';

const send = (message: object) => process.send?.(message);
const redis = new Redis(process.env.REDIS_URL!, { commandTimeout: 5_000 });
const breaker = new RedisCircuitBreaker({
  redis,
  name: process.env.NAME!,
  prefix: process.env.PREFIX!,
  breaker: { trigger: { kind: 'consecutive', failures: 3 }, halfOpenAfter: 300 },
});
breaker.events.on('stateChange', (e) =>
  send({ type: 'state', to: e.to, at: Date.now(), remote: e.remote }),
);

const dependencyDown = () =>
  Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

process.on(
  'message',
  async (message: { cmd: string; n?: number; ms?: number; failUntil?: number }) => {
    if (message.cmd === 'fail') {
      for (let i = 0; i < (message.n ?? 0); i++) {
        await breaker
          .execute(() => {
            throw dependencyDown();
          })
          .catch(() => undefined);
      }
      send({ type: 'failed' });
    } else if (message.cmd === 'hammer') {
      const probes: { start: number; end: number; ok: boolean }[] = [];
      const endAt = Date.now() + (message.ms ?? 0);
      while (Date.now() < endAt) {
        await breaker
          .execute(async () => {
            const probe = breaker.local.state === 'halfOpen';
            const start = Date.now();
            // The dependency answers in 40 ms: long enough for probes to overlap if the lock failed.
            await pause(40);
            const ok = Date.now() >= (message.failUntil ?? 0);
            if (probe) probes.push({ start, end: Date.now(), ok });
            if (!ok) throw dependencyDown();
          })
          .catch(() => undefined);
        await pause(5);
      }
      send({ type: 'done', probes, state: breaker.state });
    } else if (message.cmd === 'exit') {
      await breaker.close();
      redis.disconnect();
      process.exit(0);
    }
  },
);

await breaker.ready();
send({ type: 'ready' });
