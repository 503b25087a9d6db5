import type { Fault } from './fault.js';
import { isObject } from './read.js';

/**
 * The JSON form of a fault. `JSON.stringify(fault)` must never throw, whatever was thrown:
 * the cause is described (name, message, code, status and its own cause, a few levels deep)
 * rather than serialised whole, so a BigInt, a cycle, a throwing getter or a revoked proxy in
 * it cannot break a log line, and a driver's enumerable fields (a command's arguments) stay out.
 */
export interface FaultJson {
  readonly category: Fault['category'];
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly status?: number;
  readonly code?: string;
  readonly message: string;
  readonly suggestions: readonly string[];
  readonly source: string;
  readonly cause?: CauseJson;
}

/** What a cause looks like in JSON: an error's readable fields, or a short text for anything else. */
export type CauseJson =
  | string
  | {
      readonly name?: string;
      readonly message?: string;
      readonly code?: string;
      readonly status?: number;
      readonly cause?: CauseJson;
    };

/** How many `cause` links are described; deeper ones are cut. */
const MAX_CAUSE_DEPTH = 4;
/** Longest text kept from a cause; longer text is cut with a marker. */
const MAX_TEXT = 2_000;

export function faultToJson(fault: Fault): FaultJson {
  const json: {
    -readonly [K in keyof FaultJson]: FaultJson[K];
  } = {
    category: fault.category,
    retryable: fault.retryable,
    message: fault.message,
    suggestions: [...fault.suggestions],
    source: fault.source,
  };
  if (fault.retryAfterMs !== undefined) json.retryAfterMs = fault.retryAfterMs;
  if (fault.status !== undefined) json.status = fault.status;
  if (fault.code !== undefined) json.code = fault.code;
  const cause = describeCause(fault.cause, 0, new Set());
  if (cause !== undefined) json.cause = cause;
  return json;
}

/** Describes any thrown value for JSON; never throws. */
export function describeCause(
  value: unknown,
  depth: number,
  seen: Set<unknown>,
): CauseJson | undefined {
  try {
    if (value === undefined) return undefined;
    if (!isObject(value)) return cut(typeof value === 'bigint' ? `${value}n` : String(value));
    if (seen.has(value)) return '(circular)';
    if (depth >= MAX_CAUSE_DEPTH) return '(deeper causes omitted)';
    seen.add(value);
    const out: {
      name?: string;
      message?: string;
      code?: string;
      status?: number;
      cause?: CauseJson;
    } = {};
    const name = read(value, 'name');
    const message = read(value, 'message');
    const code = read(value, 'code');
    const status = read(value, 'status');
    if (typeof name === 'string') out.name = cut(name);
    if (typeof message === 'string') out.message = cut(message);
    if (typeof code === 'string') out.code = cut(code);
    else if (typeof code === 'number' && Number.isFinite(code)) out.code = String(code);
    if (typeof status === 'number' && Number.isInteger(status)) out.status = status;
    const inner = describeCause(read(value, 'cause'), depth + 1, seen);
    if (inner !== undefined) out.cause = inner;
    if (out.name === undefined && out.message === undefined)
      return Object.prototype.toString.call(value);
    return out;
  } catch {
    return '(unreadable value)';
  }
}

function read(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function cut(text: string): string {
  return text.length <= MAX_TEXT
    ? text
    : `${text.slice(0, MAX_TEXT)}… (${text.length - MAX_TEXT} more characters cut)`;
}
