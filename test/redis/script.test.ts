import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineScript, runScript, scriptLoads } from '../../src/stores/redis/script.js';
import { type OwnRedisServer, startRedisServer } from './redis-server.js';

// Runs on a private server: SCRIPT FLUSH on the shared one would disturb other tests.
describe('Lua script loader', () => {
  let server: OwnRedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis(server.url, { commandTimeout: 5_000 });
  });
  afterAll(async () => {
    client.disconnect();
    await server.stop();
  });

  it('runs by SHA, loads once, and reloads after the server forgets it (NOSCRIPT)', async () => {
    const script = defineScript(
      'echo',
      `-- echo\nreturn redis.call('INCR', KEYS[1]) + tonumber(ARGV[1])`,
    );
    const before = scriptLoads(client);
    expect(await runScript(client, script, ['{t}:counter'], [10])).toBe(11);
    expect(await runScript(client, script, ['{t}:counter'], [10])).toBe(12);
    expect(scriptLoads(client) - before).toBe(1);
    await client.script('FLUSH');
    expect(await runScript(client, script, ['{t}:counter'], [10])).toBe(13);
    expect(scriptLoads(client) - before).toBe(2);
  });

  it('reloads after a server restart (AOF keeps the data, not the script cache)', async () => {
    const script = defineScript('echo2', `-- echo2\nreturn redis.call('INCR', KEYS[1])`);
    expect(await runScript(client, script, ['{t}:restart'], [])).toBe(1);
    await server.restart('SIGKILL');
    // ioredis reconnects on its own; the offline queue holds the command meanwhile.
    expect(await runScript(client, script, ['{t}:restart'], [])).toBe(2);
  });

  it('passes Lua errors through', async () => {
    const script = defineScript('bad', `return redis.call('NOSUCHCOMMAND')`);
    await expect(runScript(client, script, [], [])).rejects.toThrow(/unknown.*command/i);
  });
});
