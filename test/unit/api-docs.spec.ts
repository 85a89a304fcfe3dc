import { join } from 'node:path';
import ts from 'typescript';

/**
 * Every export of the package's entry points carries an `@example` in its TSDoc: the API
 * reference (`npm run docs`) is read by people who want to copy a working call, and TypeDoc's
 * own validation only checks that some comment exists. Re-exports are followed to the
 * declaration, so the comment is checked where it is written.
 */
describe('API docs', () => {
  const root = process.cwd();
  const entryPoints = [
    'lib/index.ts',
    'lib/testing/index.ts',
    'lib/redis/index.ts',
    'lib/openfeature/index.ts',
    'lib/terminus/index.ts',
  ];

  // lib's own files only, unresolved beyond them: re-exports are all relative, and skipping the
  // ~700 declaration files of the dependencies keeps the program to a second or two.
  const program = ts.createProgram(ts.sys.readDirectory(join(root, 'lib'), ['.ts']), {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noLib: true,
    noResolve: true,
    types: [],
  });
  const checker = program.getTypeChecker();

  /** `entry:Name` for each export whose declaration has no `@example` tag. */
  function missingExamples(): { exported: string[]; missing: string[] } {
    const exported: string[] = [];
    const missing: string[] = [];
    for (const entry of entryPoints) {
      const file = program.getSourceFile(join(root, entry));
      const module = file && checker.getSymbolAtLocation(file);
      if (!module) throw new Error(`${entry} is not a module`);
      for (const symbol of checker.getExportsOfModule(module)) {
        const declared =
          symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        const name = `${entry}:${symbol.getName()}`;
        exported.push(name);
        const tags = (declared.getDeclarations() ?? []).flatMap((declaration) =>
          ts.getJSDocTags(declaration),
        );
        if (!tags.some((tag) => tag.tagName.text === 'example')) missing.push(name);
      }
    }
    return { exported, missing };
  }

  it('gives every export of every entry point an @example', () => {
    const { exported, missing } = missingExamples();
    // Guards against a resolution slip that would find nothing and pass vacuously.
    expect(exported.length).toBeGreaterThan(80);
    expect(missing).toEqual([]);
  });
});
