import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every interface the API reports (etc/*.api.md) show as exported from an entry point. */
function exportedInterfaces(): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(join(ROOT, 'etc'))) {
    const report = readFileSync(join(ROOT, 'etc', file), 'utf8');
    for (const match of report.matchAll(/^export interface (\w+)/gm)) names.add(match[1]!);
  }
  return names;
}

interface OptionDoc {
  readonly where: string;
  readonly documented: boolean;
}

/** Each optional property of an exported `…Options` interface, and whether it has a `@defaultValue`. */
function optionDocs(): OptionDoc[] {
  const exported = exportedInterfaces();
  const docs: OptionDoc[] = [];
  for (const path of sourceFiles(join(ROOT, 'src'))) {
    const file = relative(ROOT, path);
    const source = ts.createSourceFile(
      path,
      readFileSync(path, 'utf8'),
      ts.ScriptTarget.ES2022,
      true,
    );
    for (const statement of source.statements) {
      if (!ts.isInterfaceDeclaration(statement)) continue;
      const name = statement.name.text;
      if (!name.endsWith('Options') || !exported.has(name)) continue;
      for (const member of statement.members) {
        // A required property needs no default: the type says it must be given.
        if (!ts.isPropertySignature(member) || member.questionToken === undefined) continue;
        const text = ts
          .getJSDocCommentsAndTags(member)
          .map((doc) => doc.getText())
          .join('\n');
        // Internal members are stripped from the published types: no default to document.
        if (/@internal/.test(text)) continue;
        docs.push({
          where: `${file}: ${name}.${member.name.getText()}`,
          documented: /@defaultValue \S/.test(text),
        });
      }
    }
  }
  return docs;
}

describe('every exported option documents its default', () => {
  const docs = optionDocs();

  it('finds the exported options (the check below is not vacuous)', () => {
    expect(docs.length).toBeGreaterThan(200);
    for (const option of [
      'WorkerOptions.leaseMs',
      'RedisStoreOptions.prefix',
      'LifecycleOptions',
      'RetryOptions.maxAttempts',
      'CircuitBreakerOptions.halfOpenAfter',
    ])
      expect(
        docs.some((d) => d.where.includes(option)),
        option,
      ).toBe(true);
  });

  it('each optional property of an exported …Options type has TSDoc with @defaultValue', () => {
    const missing = docs.filter((d) => !d.documented).map((d) => d.where);
    expect(missing).toEqual([]);
  });
});
