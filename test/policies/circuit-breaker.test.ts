import { describe, expect, it } from 'vitest';
import { BrokenCircuitError, ConfigError } from '../../src/faults/errors.js';
import { circuitBreaker, type CircuitStateChange } from '../../src/policies/circuit-breaker.js';
import { exponentialBackoff } from '../../src/recovery/backoff.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

const unavailable = () => Object.assign(new Error('503 from upstream'), { status: 503 });
const notFound = () => Object.assign(new Error('404 not found'), { status: 404 });
const ok = () => 'ok';
const fail = () => {
  throw unavailable();
};

async function outcome(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}

describe('circuitBreaker: consecutive failures', () => {
  it('opens after N counted failures, refuses with the time left, probes after the open time', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      clock,
      trigger: { kind: 'consecutive', failures: 3 },
      halfOpenAfter: 10_000,
    });
    for (let i = 0; i < 3; i++)
      await expect(breaker.execute(fail)).rejects.toMatchObject({ status: 503 });
    expect(breaker.state).toBe('open');

    await clock.advance(4_000.4);
    const refused = await outcome(breaker.execute(ok));
    expect(refused).toBeInstanceOf(BrokenCircuitError);
    expect((refused as BrokenCircuitError).retryAfterMs).toBe(6_000); // rounded up: never earlier than the open time
    expect((refused as BrokenCircuitError).isolated).toBe(false);

    await clock.advance(5_999.6);
    expect(breaker.state).toBe('halfOpen');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(breaker.stats()).toMatchObject({
      executions: 5,
      successes: 1,
      failures: 3,
      rejections: 1,
      opened: 1,
      state: 'closed',
    });
    expect(clock.pendingTimers).toBe(0); // no timer per breaker, ever
  });

  it('a success resets the count of failures in a row', async () => {
    const breaker = circuitBreaker({
      clock: new VirtualClock(),
      trigger: { kind: 'consecutive', failures: 2 },
    });
    await outcome(breaker.execute(fail));
    await breaker.execute(ok);
    await outcome(breaker.execute(fail));
    expect(breaker.state).toBe('closed');
    await outcome(breaker.execute(fail));
    expect(breaker.state).toBe('open');
  });

  it('validation, permanent and cancelled faults do not count by default; the rule is configurable', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ clock, trigger: { kind: 'consecutive', failures: 1 } });
    const aborted = new AbortController();
    aborted.abort();
    await outcome(
      breaker.execute(() => {
        throw notFound();
      }),
    );
    await outcome(
      breaker.execute(() => {
        throw Object.assign(new Error('bad input'), { status: 422 });
      }),
    );
    await outcome(breaker.execute(() => aborted.signal.throwIfAborted()));
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().failuresByCategory).toEqual({
      permanent: 1,
      validation: 1,
      cancelled: 1,
    });

    const strict = circuitBreaker({
      clock,
      trigger: { kind: 'consecutive', failures: 1 },
      ignoredCategories: [],
    });
    await outcome(
      strict.execute(() => {
        throw notFound();
      }),
    );
    expect(strict.state).toBe('open');

    const custom = circuitBreaker({
      clock,
      trigger: { kind: 'consecutive', failures: 1 },
      countsAsFailure: (f) => f.status === 404,
    });
    await outcome(custom.execute(fail));
    expect(custom.state).toBe('closed');
    await outcome(
      custom.execute(() => {
        throw notFound();
      }),
    );
    expect(custom.state).toBe('open');
  });

  it('a failed probe reopens for longer each time with a backoff, and a success resets the backoff', async () => {
    const clock = new VirtualClock();
    const halfOpenAfter = exponentialBackoff({
      initialMs: 1_000,
      factor: 2,
      maxDelayMs: 5_000,
      jitter: 'none',
    });
    const breaker = circuitBreaker({
      clock,
      trigger: { kind: 'consecutive', failures: 1 },
      halfOpenAfter,
    });
    const openings: number[] = [];
    breaker.events.on('stateChange', (e) => {
      if (e.to === 'open') openings.push(e.openForMs!);
    });
    await outcome(breaker.execute(fail));
    for (const wait of [1_000, 2_000, 4_000, 5_000]) {
      await clock.advance(wait - 1);
      expect(await outcome(breaker.execute(ok))).toBeInstanceOf(BrokenCircuitError);
      await clock.advance(1);
      await outcome(breaker.execute(fail)); // the probe fails
    }
    expect(openings).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    await clock.advance(5_000);
    await breaker.execute(ok);
    await outcome(breaker.execute(fail));
    expect(openings.at(-1)).toBe(1_000);
  });
});

describe('circuitBreaker: half-open probes', () => {
  it('lets maxProbes probes through at once and refuses the rest without a retry time', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      clock,
      trigger: { kind: 'consecutive', failures: 1 },
      halfOpenAfter: 100,
      maxProbes: 2,
      probesToClose: 2,
    });
    await outcome(breaker.execute(fail));
    await clock.advance(100);
    const gates: Array<() => void> = [];
    const probe = () => new Promise<string>((resolve) => gates.push(() => resolve('probed')));
    const first = breaker.execute(probe);
    const second = breaker.execute(probe);
    const third = await outcome(breaker.execute(ok));
    expect(third).toBeInstanceOf(BrokenCircuitError);
    expect((third as BrokenCircuitError).retryAfterMs).toBeUndefined();
    await Promise.resolve();
    expect(gates).toHaveLength(2);
    gates[0]!();
    await first;
    expect(breaker.state).toBe('halfOpen'); // one success of the two needed
    gates[1]!();
    await second;
    expect(breaker.state).toBe('closed');
  });

  it('a probe that ends with an ignored fault frees its slot and leaves the circuit half-open', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      clock,
      trigger: { kind: 'consecutive', failures: 1 },
      halfOpenAfter: 100,
    });
    await outcome(breaker.execute(fail));
    await clock.advance(100);
    await outcome(
      breaker.execute(() => {
        throw notFound();
      }),
    );
    expect(breaker.state).toBe('halfOpen');
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
  });

  it('does not count a call that finishes after the circuit changed state', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      clock,
      trigger: { kind: 'consecutive', failures: 1 },
      halfOpenAfter: 100,
    });
    let release!: () => void;
    const slow = breaker.execute(() => new Promise<void>((resolve) => (release = resolve)));
    await outcome(breaker.execute(fail)); // opens
    await clock.advance(100);
    const probeGate: Array<() => void> = [];
    const probe = breaker.execute(() => new Promise<void>((resolve) => probeGate.push(resolve)));
    release(); // the old call succeeds: it must not close the circuit nor take the probe's place
    await slow;
    expect(breaker.state).toBe('halfOpen');
    expect(await outcome(breaker.execute(ok))).toBeInstanceOf(BrokenCircuitError);
    probeGate[0]!();
    await probe;
    expect(breaker.state).toBe('closed');
  });
});

describe('circuitBreaker: failure-rate windows', () => {
  it('count window: opens when the failure rate over the last N calls reaches the threshold, not before minimumThroughput', async () => {
    const breaker = circuitBreaker({
      clock: new VirtualClock(),
      trigger: { kind: 'countWindow', size: 10, failureRate: 0.5, minimumThroughput: 6 },
    });
    for (let i = 0; i < 3; i++) await outcome(breaker.execute(fail));
    expect(breaker.state).toBe('closed'); // 3 of 3 failed, but fewer than 6 calls
    await breaker.execute(ok);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    await breaker.execute(ok); // 3 of 6 = 50%
    expect(breaker.state).toBe('open');
  });

  it('count window: old outcomes leave the ring', async () => {
    const breaker = circuitBreaker({
      clock: new VirtualClock(),
      trigger: { kind: 'countWindow', size: 4, failureRate: 0.75, minimumThroughput: 4 },
    });
    // Five of the first eight fail, but no four in a row hold three failures.
    const sequence = [fail, fail, ok, ok, ok, fail, ok, fail];
    for (const step of sequence) await outcome(breaker.execute(step));
    expect(breaker.state).toBe('closed');
    await outcome(breaker.execute(fail)); // last 4: fail, ok, fail, fail = 75%
    expect(breaker.state).toBe('open');
  });

  it('time window: failures older than the window no longer count', async () => {
    const clock = new VirtualClock();
    const changes: CircuitStateChange[] = [];
    const breaker = circuitBreaker({
      clock,
      name: 'archive',
      trigger: {
        kind: 'timeWindow',
        durationMs: 10_000,
        buckets: 10,
        failureRate: 0.5,
        minimumThroughput: 4,
      },
    });
    breaker.events.on('stateChange', (e) => changes.push(e));
    await outcome(breaker.execute(fail));
    await outcome(breaker.execute(fail));
    await outcome(breaker.execute(fail));
    await clock.advance(11_000); // all three have aged out
    await breaker.execute(ok);
    await breaker.execute(ok);
    await breaker.execute(ok);
    await outcome(breaker.execute(fail));
    expect(breaker.state).toBe('closed'); // 1 of 4
    await clock.advance(3_000);
    await outcome(breaker.execute(fail));
    await outcome(breaker.execute(fail, { operation: 'download' }));
    expect(breaker.state).toBe('open'); // 3 of 6
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      breaker: 'archive',
      from: 'closed',
      to: 'open',
      operation: { name: 'download' },
    });
    expect(changes[0]!.reason).toMatch(/failure rate 50% >= 50% over 6 calls/);
  });

  it('slow-call rate opens the circuit even when every call succeeds', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      clock,
      slowCallMs: 1_000,
      trigger: { kind: 'countWindow', size: 4, slowCallRate: 0.5, minimumThroughput: 4 },
    });
    const slow = async () => {
      await clock.sleep(1_500);
      return 'slow';
    };
    await breaker.execute(ok);
    await breaker.execute(ok);
    const first = breaker.execute(slow);
    await clock.advance(1_500);
    await first;
    expect(breaker.state).toBe('closed');
    const second = breaker.execute(slow);
    await clock.advance(1_500);
    await second;
    expect(breaker.state).toBe('open');
  });
});

describe('circuitBreaker: isolate, reset, events', () => {
  it('isolate() refuses every call with isolated: true until reset()', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ clock, halfOpenAfter: 10 });
    const changes: string[] = [];
    breaker.events.on('stateChange', (e) => changes.push(`${e.from}->${e.to}:${e.reason}`));
    breaker.isolate();
    await clock.advance(1_000_000);
    const refused = await outcome(breaker.execute(ok));
    expect(refused).toBeInstanceOf(BrokenCircuitError);
    expect((refused as BrokenCircuitError).isolated).toBe(true);
    expect(breaker.state).toBe('isolated');
    breaker.reset();
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(changes).toEqual(['closed->isolated:isolated', 'isolated->closed:reset']);
  });

  it('stateChange carries the operation of the call that caused it; rejected events too', async () => {
    const breaker = circuitBreaker({
      clock: new VirtualClock(),
      trigger: { kind: 'consecutive', failures: 1 },
    });
    const seen: unknown[] = [];
    breaker.events.on('stateChange', (e) => seen.push(e));
    breaker.events.on('rejected', (e) => seen.push(e));
    await outcome(
      breaker.execute(fail, {
        operation: { name: 'download_video', attributes: { videoId: 'v1' } },
      }),
    );
    await outcome(breaker.execute(ok, { operation: 'download_video' }));
    expect(seen).toMatchObject([
      {
        from: 'closed',
        to: 'open',
        reason: '1 consecutive failures',
        openForMs: 30_000,
        operation: { name: 'download_video', attributes: { videoId: 'v1' } },
      },
      { state: 'open', retryAfterMs: 30_000, operation: { name: 'download_video' } },
    ]);
    // The refusal itself says who was refused doing what.
    const refused = await outcome(
      breaker.execute(ok, { operation: { name: 'download_video', attributes: { videoId: 'v2' } } }),
    );
    expect(refused).toMatchObject({
      operation: { name: 'download_video', attributes: { videoId: 'v2' } },
    });
  });

  it('forceOpen applies an open-until decided elsewhere (the seam for a shared breaker)', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ clock });
    breaker.forceOpen(2_500, 'shared state says open');
    expect(((await outcome(breaker.execute(ok))) as BrokenCircuitError).retryAfterMs).toBe(2_500);
    await clock.advance(2_500);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
  });
});

describe('circuitBreaker: snapshot', () => {
  it('toJSON/restore carries an open circuit to another process by wall-clock time', async () => {
    const first = new VirtualClock({ start: 5_000, wallStart: Date.UTC(2026, 0, 1) });
    const breaker = circuitBreaker({
      clock: first,
      trigger: { kind: 'consecutive', failures: 1 },
      halfOpenAfter: 60_000,
    });
    await outcome(breaker.execute(fail));
    await first.advance(20_000);
    const json = JSON.parse(JSON.stringify(breaker));
    expect(json).toEqual({
      version: 1,
      state: 'open',
      openUntil: Date.UTC(2026, 0, 1) + 60_000,
      opens: 1,
      consecutiveFailures: 0,
    });

    // Another process: a different monotonic origin, its wall clock 10 s later.
    const second = new VirtualClock({ start: 0, wallStart: Date.UTC(2026, 0, 1) + 30_000 });
    const restored = circuitBreaker({
      clock: second,
      trigger: { kind: 'consecutive', failures: 1 },
      halfOpenAfter: 60_000,
    });
    restored.restore(json);
    expect(((await outcome(restored.execute(ok))) as BrokenCircuitError).retryAfterMs).toBe(30_000);
    await second.advance(30_000);
    await expect(restored.execute(ok)).resolves.toBe('ok');
  });

  it('restores closed with its failure count, and isolated; rejects a bad snapshot with ConfigError', async () => {
    const clock = new VirtualClock();
    const a = circuitBreaker({ clock, trigger: { kind: 'consecutive', failures: 3 } });
    await outcome(a.execute(fail));
    await outcome(a.execute(fail));
    const b = circuitBreaker({ clock, trigger: { kind: 'consecutive', failures: 3 } });
    b.restore(a.toJSON());
    await outcome(b.execute(fail));
    expect(b.state).toBe('open');
    a.isolate();
    b.restore(a.toJSON());
    expect(b.state).toBe('isolated');
    expect(() => b.restore({ version: 1, state: 'ajar' } as never)).toThrow(ConfigError);
    expect(() =>
      b.restore({ version: 1, state: 'open', opens: 1, consecutiveFailures: 0 } as never),
    ).toThrow(/snapshot\.openUntil/);
  });
});

describe('circuitBreaker: options', () => {
  it.each([
    [{ trigger: { kind: 'consecutive', failures: 0 } }, /trigger\.failures: 0/],
    [{ trigger: { kind: 'sometimes' } }, /trigger\.kind: "sometimes"/],
    [
      { trigger: { kind: 'countWindow', size: 5, minimumThroughput: 6 } },
      /trigger\.minimumThroughput: 6/,
    ],
    [{ trigger: { kind: 'timeWindow', durationMs: -1 } }, /trigger\.durationMs: -1/],
    [{ trigger: { kind: 'countWindow', size: 5, failureRate: 0 } }, /trigger\.failureRate: 0/],
    [{ trigger: { kind: 'consecutive', failures: 2, size: 3 } }, /trigger\.size/],
    [{ halfOpenAfter: 'soon' }, /halfOpenAfter: "soon"/],
    [{ maxProbes: 1.5 }, /maxProbes: 1.5/],
    [{ ignoredCategories: ['nope'] }, /ignoredCategories\[0\]: "nope"/],
    [{ ignoredCategories: [], countsAsFailure: () => true }, /ignoredCategories/],
    [{ slowCallMs: Number.NaN }, /slowCallMs: NaN/],
    [
      { halfOpenAfer: 10 },
      /Unknown option circuitBreaker\.halfOpenAfer: 10 \(did you mean circuitBreaker\.halfOpenAfter\?/,
    ],
  ])('%j is refused with a ConfigError naming the option', (options, message) => {
    expect(() => circuitBreaker(options as never)).toThrow(ConfigError);
    expect(() => circuitBreaker(options as never)).toThrow(message);
  });

  it('describes itself', () => {
    expect(circuitBreaker({ name: 'api', halfOpenAfter: 5_000 }).describe()).toBe(
      'circuitBreaker "api": opens on 5 consecutive failures, probes after 5000 ms',
    );
  });
});
