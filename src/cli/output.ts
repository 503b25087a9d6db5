import Table from 'cli-table3';

/** Where a command writes: stdout for results, stderr for messages; JSON or tables. */
export interface Output {
  readonly json: boolean;
  /** Writes a result: `data` as JSON with --json, else the text from `render`. */
  result(data: unknown, render: () => string): void;
  /** A message for people (stderr, never mixed into --json output). */
  note(text: string): void;
}

export function createOutput(
  json: boolean,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Output {
  return {
    json,
    result(data, render) {
      // JSON escapes C0 controls itself; the C1 ones (0x9b starts a terminal command) and bidi
      // overrides it leaves raw. They can only sit inside strings there, so escaping keeps it valid JSON.
      stdout.write(
        json
          ? `${printable(JSON.stringify(data, jsonReplacer, 2), { keepNewlines: true })}\n`
          : `${render()}\n`,
      );
    },
    note(text) {
      stderr.write(`${text}\n`);
    },
  };
}

/** Infinity is not JSON; a pause "until resumed" is written as the string "indefinite". */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (value === Number.POSITIVE_INFINITY) return 'indefinite';
  return value;
}

/**
 * Stored text made safe for a terminal: control characters (C0, DEL, C1), bidi overrides and
 * line/paragraph separators are written as `\u001b`-style escapes, so a fault message holding
 * `\u001b[2J` cannot clear the operator's screen or forge output. Everything read from a store is
 * untrusted; every command prints it through here (tables do it for their cells).
 */
export function printable(text: string, options: { readonly keepNewlines?: boolean } = {}): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isUnsafe(code) || (options.keepNewlines === true && code === 0x0a)) continue;
    out += `${text.slice(start, i)}\\u${code.toString(16).padStart(4, '0')}`;
    start = i + 1;
  }
  return start === 0 ? text : out + text.slice(start);
}

function isUnsafe(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x200e ||
    code === 0x200f ||
    code === 0x061c
  );
}

/** A table; colours only on a terminal so piped output stays plain. Every cell is made printable. */
export function table(
  head: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const t = new Table({ head: [...head], style: colour ? {} : { head: [], border: [] } });
  for (const row of rows)
    t.push(row.map((cell) => (typeof cell === 'number' ? String(cell) : printable(cell))));
  return t.toString();
}

/** `1.2 s`, `3 min`, `2.5 h`, `4 d` — for ages and durations in tables. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'indefinite';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

export function isoTime(epochMs: number): string {
  return Number.isFinite(epochMs) ? new Date(epochMs).toISOString() : 'indefinite';
}

/** Shortens a message for a table cell. */
export function truncate(text: string, max = 60): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}
