import { invocation } from './demo-summary.js';
import { redact } from './redact.js';
import type { OpenedStore } from './store.js';

/** The --store (and --redis-prefix / --pg-schema) flags that name this store again in hints; credentials redacted. */
export function storeFlagFor(
  opened: OpenedStore,
  prefix: string | undefined,
  schema?: string,
): string {
  if (opened.location.kind === 'sqlite') return `--store sqlite:${opened.location.path}`;
  if (opened.location.kind === 'postgres')
    return `--store ${redact(opened.location.url)}${schema === undefined ? '' : ` --pg-schema ${schema}`}`;
  if (opened.location.kind === 'redis')
    return `--store ${redact(opened.location.url)}${prefix === undefined ? '' : ` --redis-prefix ${prefix}`}`;
  return '';
}

/** A command to copy: `npx faultline dead list --store sqlite:/path/x.db`, on the store the user gave. */
export function commandOn(opened: OpenedStore, prefix: string | undefined, rest: string): string {
  const flags = storeFlagFor(opened, prefix);
  return `${invocation().cli} ${rest}${flags === '' ? '' : ` ${flags}`}`;
}
