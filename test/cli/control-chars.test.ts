import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { tempDir } from '../durable/temp-dir.js';
import { runCli } from './run-cli.js';

/** Clear screen, a C1 CSI (0x9b) and a right-to-left override: what a hostile stored string might hold. */
const CLEAR = '\u001b[2J';
const HOSTILE = `boom ${CLEAR}\u009b31m\u202Egnp.exe\nsecond line`;
/** Any control character but a newline, C1, or a bidi control, printed raw. */
const RAW = {
  test: (text: string): boolean =>
    [...text].some((c) => {
      const code = c.charCodeAt(0);
      return (
        (code < 0x20 && code !== 0x0a) ||
        (code >= 0x7f && code <= 0x9f) ||
        (code >= 0x202a && code <= 0x202e) ||
        (code >= 0x2066 && code <= 0x2069)
      );
    }),
};

/**
 * Everything a store holds is untrusted when shown: a fault message, a queue name, a payload or
 * a checkpoint key with terminal escape sequences must print escaped in every command.
 */
describe('the CLI escapes control characters from stored text', () => {
  const temp = tempDir('faultline-cli-ctl-');
  const file = temp.path('hostile.db');
  let deadId = '';

  beforeAll(async () => {
    const store = new SqliteStore(file);
    const now = Date.now();
    const queue = `q${CLEAR}`;
    await store.enqueue(
      [{ queue, payload: JSON.stringify({ note: HOSTILE }), priority: 0, runAt: now - 10 }],
      now - 10,
    );
    const [job] = await store.claim({
      queue,
      workerId: `w${CLEAR}`,
      limit: 1,
      leaseMs: 60_000,
      now,
      maxStrikes: 3,
    });
    await store.settle(
      [
        {
          id: job!.id,
          token: job!.token,
          kind: 'dead',
          fault: { category: 'validation', message: HOSTILE, suggestions: [`do ${CLEAR} this`] },
          record: {
            attempt: 1,
            workerId: `w${CLEAR}`,
            startedAt: now - 5,
            durationMs: 1,
            outcome: 'dead',
            category: 'validation',
            message: HOSTILE,
          },
        },
      ],
      now,
    );
    await store.putCheckpoint(`key${CLEAR}`, JSON.stringify({ cursor: HOSTILE }), now);
    await store.close();
    deadId = job!.id;
  });
  afterAll(() => temp.cleanup());

  const commands = (): string[][] => [
    ['dead', 'list'],
    ['dead', 'show', deadId],
    ['checkpoints', 'list'],
    ['checkpoints', 'show', `key${CLEAR}`],
    ['stats'],
  ];

  for (const json of [false, true]) {
    it(`prints no raw control character${json ? ' with --json' : ''}, and shows them escaped`, async () => {
      for (const args of commands()) {
        const result = await runCli([
          '--store',
          `sqlite:${file}`,
          ...(json ? ['--json'] : []),
          ...args,
        ]);
        expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
        expect(
          RAW.test(result.stdout),
          `${args.join(' ')} printed a raw control character:\n${JSON.stringify(result.stdout)}`,
        ).toBe(false);
        expect(RAW.test(result.stderr)).toBe(false);
        expect(result.stdout, args.join(' ')).toContain('\\u001b');
      }
    });
  }
});
