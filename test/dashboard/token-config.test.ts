import { describe, expect, it } from 'vitest';
import { EnvConfigError, fromEnv } from '../../src/config/env.js';
import { runCli } from '../cli/run-cli.js';

describe('FAULTLINE_DASHBOARD_TOKEN', () => {
  it('is read by fromEnv and never shown, also when it is bad or its name is mistyped', () => {
    const token = 'a-dashboard-token-0123456789';
    expect(fromEnv({ FAULTLINE_DASHBOARD_TOKEN: token }).dashboardToken).toBe(token);
    expect(fromEnv({}).dashboardToken).toBeUndefined();
    const short = () => fromEnv({ FAULTLINE_DASHBOARD_TOKEN: 'short-pw' });
    expect(short).toThrow(EnvConfigError);
    expect(short).toThrow(/FAULTLINE_DASHBOARD_TOKEN="\*\*\*": expected at least 16 characters/);
    expect(short).not.toThrow(/short-pw/);
    const typo = () => fromEnv({ FAULTLINE_DASHBORD_TOKEN: token });
    expect(typo).toThrow(/did you mean FAULTLINE_DASHBOARD_TOKEN/);
    expect(typo).not.toThrow(new RegExp(token));
  });

  it('faultline config shows it as ***', async () => {
    const token = 'a-dashboard-token-0123456789';
    const result = await runCli(['config', '--json'], {
      env: { FAULTLINE_DASHBOARD_TOKEN: token },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(token);
    const row = (
      JSON.parse(result.stdout) as {
        variables: { variable: string; value: string; source: string }[];
      }
    ).variables.find((v) => v.variable === 'FAULTLINE_DASHBOARD_TOKEN');
    expect(row).toMatchObject({ value: '***', source: 'environment' });
  });
});
