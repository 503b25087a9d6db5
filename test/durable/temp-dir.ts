import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory per test file; `cleanup()` removes it and everything in it. */
export function tempDir(prefix = 'faultline-durable-'): {
  path: (name: string) => string;
  cleanup: () => void;
  dir: string;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    path: (name) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
