import { InvalidArgumentError } from 'commander';
import { FAULT_CATEGORIES, type FaultCategory, isFaultCategory } from '../faults/fault.js';

/** Command-line value parsers: each throws commander's InvalidArgumentError (exit code 2). */

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `500ms`, `30s`, `5m`, `2h`, `7d`, or a plain number of milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match)
    throw new InvalidArgumentError(
      `expected a duration like 30s, 5m, 2h, 7d or a number of ms, got ${JSON.stringify(text)}`,
    );
  return Math.round(Number(match[1]) * (UNITS[match[2] ?? 'ms'] ?? 1));
}

export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim()))
    throw new InvalidArgumentError(`expected a whole number >= 0, got ${JSON.stringify(text)}`);
  return Number(text.trim());
}

export function parsePositiveCount(text: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : 0;
  if (n < 1)
    throw new InvalidArgumentError(`expected a whole number >= 1, got ${JSON.stringify(text)}`);
  return n;
}

export function parsePort(text: string): number {
  const n = parseCount(text);
  if (n > 65_535)
    throw new InvalidArgumentError(`expected a port from 0 to 65535, got ${JSON.stringify(text)}`);
  return n;
}

export function parseCategory(text: string): FaultCategory {
  if (!isFaultCategory(text))
    throw new InvalidArgumentError(
      `expected a fault category (${FAULT_CATEGORIES.join(', ')}), got ${JSON.stringify(text)}`,
    );
  return text;
}
