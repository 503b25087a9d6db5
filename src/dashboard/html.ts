/**
 * HTML built by a tagged template that escapes every interpolated value unless it is already
 * `SafeHtml` (made by this template). Everything the store holds (messages, payloads, queue
 * names, checkpoint values) is untrusted; with this template, showing it as markup takes an
 * explicit `trustedHtml()` call, which nothing in the dashboard makes on stored text.
 */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlValue =
  | SafeHtml
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly HtmlValue[];

const SPECIAL: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Control characters (C0 but tab and newline, DEL, C1), line/paragraph separators and the bidi
 * controls that can make text read differently than it is stored: shown as a visible `\u{..}`.
 */
const INVISIBLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text
    .replace(/[&<>"']/g, (ch) => SPECIAL[ch]!)
    .replace(INVISIBLE, (ch) => `<span class="ctl">\\u{${ch.charCodeAt(0).toString(16)}}</span>`);
}

/** Escapes text for an attribute: like escapeHtml, control characters written as text (no markup inside attributes). */
export function escapeAttribute(text: string): string {
  return text
    .replace(/[&<>"']/g, (ch) => SPECIAL[ch]!)
    .replace(INVISIBLE, (ch) => `\\u{${ch.charCodeAt(0).toString(16)}}`);
}

function render(value: HtmlValue, inAttribute: boolean): string {
  if (value instanceof SafeHtml) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((v) => render(v, inAttribute)).join('');
  const text = String(value);
  return inAttribute ? escapeAttribute(text) : escapeHtml(text);
}

/**
 * Whether `out` ends inside a double-quoted attribute value: its last `"` opens one (`name="`).
 * Escaped values never hold a raw quote, so every quote in `out` is the templates' own.
 */
function insideAttribute(out: string): boolean {
  const quote = out.lastIndexOf('"');
  return quote > 0 && /=\s*$/.test(out.slice(Math.max(0, quote - 4), quote));
}

export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value, insideAttribute(out)) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

/** Markup the dashboard itself wrote (never stored text). */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
