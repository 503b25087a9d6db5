import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkBindAddress, isLoopback } from '../../src/dashboard/bind.js';
import { escapeHtml, html, trustedHtml } from '../../src/dashboard/html.js';
import { ConfigError } from '../../src/faults/errors.js';

/** Undoes the escaping (and the visible control-character markers) to compare with the input. */
function readBack(text: string): string {
  return text
    .replace(/<span class="ctl">\\u\{([0-9a-f]+)\}<\/span>/g, (_m, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    )
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

describe('html template', () => {
  it('escapes every interpolated value, in content and in attributes', () => {
    const hostile = '<img src=x onerror=alert(1)>"\'&';
    expect(html`<p title="${hostile}">${hostile}</p>`.text).toBe(
      '<p title="&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;">&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;</p>',
    );
    expect(
      html`<a class="cat cat-${'x" onclick="y'}">${[html`<b>${'<i>'}</b>`, '<u>']}</a>`.text,
    ).toBe('<a class="cat cat-x&quot; onclick=&quot;y">\x3cb>&lt;i&gt;</b>&lt;u&gt;</a>');
    expect(html`${trustedHtml('<em>ok</em>')}${null}${undefined}${false}${0}`.text).toBe(
      '<em>ok</em>0',
    );
  });

  it('shows control and bidi characters as visible markers (as text inside attributes)', () => {
    expect(escapeHtml('a\u0000b\u001b[31mc\u202ed\ne\tf')).toBe(
      'a<span class="ctl">\\u{0}</span>b<span class="ctl">\\u{1b}</span>[31mc<span class="ctl">\\u{202e}</span>d\ne\tf',
    );
    expect(html`<i title="${'a\u0007b'}"></i>`.text).toBe('<i title="a\\u{7}b"></i>');
  });

  it('any string comes out with no markup of its own and reads back unchanged (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const out = html`<td>${text}</td>`.text;
        const inner = out.slice(4, -5);
        expect(inner.replace(/<span class="ctl">\\u\{[0-9a-f]+\}<\/span>/g, '')).not.toMatch(
          /[<>"']/,
        );
        expect(readBack(inner)).toBe(text);
        const attribute = html`<i title="${text}"></i>`.text.slice(10, -6);
        expect(attribute).not.toMatch(/[<>"']/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('bind address', () => {
  it('knows the loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost'])
      expect(isLoopback(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'example.com', '128.0.0.1'])
      expect(isLoopback(host)).toBe(false);
  });

  it('refuses another address without a token or an auth hook', () => {
    expect(() => checkBindAddress('127.0.0.1', {})).not.toThrow();
    expect(() => checkBindAddress('0.0.0.0', {})).toThrow(ConfigError);
    expect(() => checkBindAddress('0.0.0.0', {})).toThrow(/host/);
    expect(() => checkBindAddress('0.0.0.0', { token: 'a-token-of-sixteen-chars' })).not.toThrow();
    expect(() => checkBindAddress('::', { auth: () => true })).not.toThrow();
  });
});
