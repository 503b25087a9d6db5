import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A revision's sources (`src/`, `tsconfig.json`, `package.json`) exported with `git archive` into
 * a fresh temporary folder, for the A/B benchmarks that load a base beside the working tree. With
 * `linkModules` the folder links this checkout's node_modules, so the base resolves the same
 * packages (better-sqlite3, ioredis) as the working tree. The caller removes the folder.
 */
export function exportRevision(
  repo: string,
  revision: string,
  options: { readonly linkModules?: boolean } = {},
): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-bench-base-'));
  const archive = execFileSync(
    'git',
    ['archive', '--format=tar', revision, 'src', 'tsconfig.json', 'package.json'],
    { cwd: repo, maxBuffer: 256 * 1024 * 1024 },
  );
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  if (options.linkModules)
    symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}
