/**
 * The real examples/stream-monitor/main.ts as a child process against a local status API: it keeps
 * checking until SIGTERM (exit 143 through the lifecycle), reads the system's environment, sends
 * STATUS_API_TOKEN, and runs the player on the fallback image while the API fails.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { monitorSettings } from '../../examples/stream-monitor/settings.js';
import { playerArgs } from '../../examples/stream-monitor/display.js';
import { ConfigError } from '../../src/faults/errors.js';
import { type FlakyServer, flakyServer, times } from '../../src/testing/flaky-server.js';
import { TSX } from '../cli/run-cli.js';

const MAIN = fileURLToPath(new URL('../../examples/stream-monitor/main.ts', import.meta.url));
const PLAYER = fileURLToPath(new URL('./fixtures/fake-player.mjs', import.meta.url));
const ok = { body: { live: true, title: 'Launch', viewers: 7 } };

let server: FlakyServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  server = undefined;
  dir = undefined;
});

describe('examples/stream-monitor main.ts as a process', () => {
  it('monitors until SIGTERM: live, fallback with the player after 3 failures, player stopped after 8 successes, token sent', async () => {
    server = await flakyServer({
      routes: { '/status': [ok, ok, 503, 'reset', 401, ...times(5, ok)] },
      fallback: ok,
    });
    dir = mkdtempSync(join(tmpdir(), 'faultline-monitor-'));
    const log = join(dir, 'player.log');
    const image = join(dir, 'offline image.png');
    const child = spawn(
      process.execPath,
      [
        '--import',
        TSX,
        MAIN,
        '--url',
        `${server.url}/status`,
        '--speed',
        '4',
        '--player',
        `"${process.execPath}" "${PLAYER}" -fs -loop 1 {image}`,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          FAKE_PLAYER_LOG: log,
          CHECK_INTERVAL: '1',
          API_MIN_RETRY_INTERVAL: '1',
          API_MAX_RETRY_INTERVAL: '4',
          API_FAILURE_THRESHOLD: '3',
          // 8 successes at 1 s / 4 = 2 s real: time for the fake player (a node process) to start.
          API_STABILITY_THRESHOLD: '8',
          API_FAIL_IMAGE_PATH: image,
          STATUS_API_TOKEN: 'token-123',
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    // Well past the script: 10 scripted checks, recovery, and more; the process must still be polling.
    await server.waitForRequests(16);
    child.kill('SIGTERM');
    const code = await exited;
    expect(code, stderr).toBe(143);
    expect(stdout).toContain('backoff on');
    expect(stdout).toMatch(/LIVE on air "Launch", 7 viewers/);
    expect(stdout).toContain('! status API failing: 3 consecutive failures (last: auth)');
    expect(stdout).toMatch(
      /FALLBACK .* auth error \(HTTP 401\): the API token was refused, check STATUS_API_TOKEN/,
    );
    expect(stdout).toContain('✓ status API recovered: 8 consecutive successes');
    // The player was asked to show exactly the image (one argument, spaces and all), and stopped on recovery.
    const events = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; args?: string[] });
    expect(events).toEqual([
      { event: 'show', args: ['-fs', '-loop', '1', image] },
      { event: 'stopped' },
    ]);
    expect(server.requests.every((r) => r.headers.authorization === 'Bearer token-123')).toBe(true);
  }, 90_000);
});

describe('stream monitor settings and player command', () => {
  it('the system’s defaults, and API_ENABLE_BACKOFF=false waits the minimum every time', () => {
    const d = monitorSettings({});
    expect(d).toMatchObject({
      intervalMs: 30_000,
      failureThreshold: 3,
      stabilityThreshold: 5,
      backoffEnabled: true,
    });
    expect([1, 2, 3, 4, 5, 6].map((n) => d.failingBackoff.delay(n))).toEqual([
      10_000, 20_000, 40_000, 80_000, 160_000, 300_000,
    ]);
    const off = monitorSettings({ API_ENABLE_BACKOFF: 'false', API_MIN_RETRY_INTERVAL: '15' });
    expect([1, 2, 5].map((n) => off.failingBackoff.delay(n))).toEqual([15_000, 15_000, 15_000]);
    expect(() => monitorSettings({ API_ENABLE_BACKOFF: 'yes' })).toThrow(ConfigError);
    expect(() => monitorSettings({ CHECK_INTERVAL: '0' })).toThrow(/CHECK_INTERVAL/);
    expect(() =>
      monitorSettings({ API_MIN_RETRY_INTERVAL: '60', API_MAX_RETRY_INTERVAL: '30' }),
    ).toThrow(/API_MAX_RETRY_INTERVAL/);
  });

  it('the player template is split without a shell; {image} is one argument', () => {
    expect(playerArgs('ffplay -fs -loop 1 {image}', '/srv/a b; rm -rf x.png')).toEqual([
      'ffplay',
      '-fs',
      '-loop',
      '1',
      '/srv/a b; rm -rf x.png',
    ]);
    expect(playerArgs(`"/opt/my player/play" '{image}'`, 'x.png')).toEqual([
      '/opt/my player/play',
      'x.png',
    ]);
    expect(() => playerArgs('ffplay -fs', 'x.png')).toThrow(/\{image\}/);
    expect(() => playerArgs('"unbalanced', 'x.png')).toThrow(ConfigError);
  });
});
