import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The public API is a checked-in list: an addition (or a removal) is a deliberate edit of the list.
const root = fileURLToPath(new URL('../../', import.meta.url));

function exportedNames(entry: string): string[] {
  const program = ts.createProgram([root + entry], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true });
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(root + entry)!)!;
  return checker.getExportsOfModule(symbol).map((s) => s.getName()).sort();
}

const listed = (file: string) =>
  readFileSync(new URL(file, import.meta.url), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .sort();

describe('public API', () => {
  it('./engine exports exactly the names in exports.engine.txt, fewer than 60', () => {
    const names = exportedNames('src/engine.ts');
    expect(names).toEqual(listed('./exports.engine.txt'));
    expect(names.length).toBeLessThan(60);
  });

  it('docs/engine.md states the number of ./engine names the list holds', () => {
    const docs = readFileSync(root + 'docs/engine.md', 'utf8');
    expect(/curated list of (\d+) names/.exec(docs)?.[1]).toBe(String(listed('./exports.engine.txt').length));
  });

  it('./machines exports exactly the names in exports.machines.txt', () => {
    expect(exportedNames('src/machines/index.ts')).toEqual(listed('./exports.machines.txt'));
  });
});
