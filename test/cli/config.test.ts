import { describe, expect, it } from 'vitest';
import { json, runCli } from './run-cli.js';

describe('faultline config', () => {
  it('lists every bad FAULTLINE_* variable at once and exits 2', async () => {
    const result = await runCli(['config'], {
      env: {
        FAULTLINE_RETRY_MAX_ATTEMPTS: 'x',
        FAULTLINE_WORKER_CONCURENCY: '3',
        FAULTLINE_BREAKER_OPEN_MS: '-5',
      },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('3 invalid FAULTLINE_* environment variables');
    expect(result.stderr).toContain(
      'FAULTLINE_RETRY_MAX_ATTEMPTS="x": expected a whole number >= 1',
    );
    expect(result.stderr).toContain('did you mean FAULTLINE_WORKER_CONCURRENCY?');
    expect(result.stderr).toContain('FAULTLINE_BREAKER_OPEN_MS="-5"');
  }, 60_000);

  it('shows each value and its source, with credentials redacted (--json)', async () => {
    const result = await runCli(['config', '--json'], {
      env: {
        FAULTLINE_WORKER_CONCURRENCY: '32',
        FAULTLINE_STORE: 'redis://app:s3cret-pass@cache:6379/1',
      },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('s3cret-pass');
    const variables = new Map(
      json<{ variables: { variable: string; value: string; source: string }[] }>(
        result,
      ).variables.map((v) => [v.variable, v]),
    );
    expect(variables.get('FAULTLINE_WORKER_CONCURRENCY')).toMatchObject({
      value: '32',
      source: 'environment',
    });
    expect(variables.get('FAULTLINE_STORE')).toMatchObject({
      value: 'redis://app:***@cache:6379/1',
      source: 'environment',
    });
    expect(variables.get('FAULTLINE_RETRY_MAX_ATTEMPTS')).toMatchObject({
      value: '5',
      source: 'default',
    });
  }, 60_000);
});
