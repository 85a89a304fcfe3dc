// package.json says "sideEffects": false, so bundlers drop any module of ours whose exports go
// unused. That holds only while no module does anything at load time beyond declaring things:
// this fails on a top-level statement in dist/ that acts (process.on(), a global assignment, a
// registration call) or a bare import of a module of ours. Run after `npm run build`.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(new URL('.', import.meta.url).pathname, '../..');
const ts = createRequire(import.meta.url)('typescript');
const dist = join(root, 'dist');
// Bare imports of other packages are theirs to declare; this one defines Reflect.getMetadata.
const ALLOWED_BARE_IMPORTS = new Set(['reflect-metadata']);
const { SyntaxKind } = ts;
const DECLARATIONS = new Set([
  SyntaxKind.ImportDeclaration,
  SyntaxKind.ExportDeclaration,
  SyntaxKind.FunctionDeclaration,
  SyntaxKind.ClassDeclaration,
  SyntaxKind.VariableStatement,
]);

/** `__decorate([...], X)` or `X = __decorate([...], X)`: tsc's decorators on our own class. */
function decoratesOwnClass(expression) {
  const call = ts.isBinaryExpression(expression) ? expression.right : expression;
  return ts.isCallExpression(call) && call.expression.getText() === '__decorate';
}

const problems = [];
for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
  if (!file.endsWith('.js')) continue;
  const text = readFileSync(join(dist, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  for (const statement of source.statements) {
    const where = `dist/${file}:${source.getLineAndCharacterOfPosition(statement.getStart()).line + 1}`;
    if (ts.isImportDeclaration(statement) && !statement.importClause) {
      const name = statement.moduleSpecifier.text;
      if (!ALLOWED_BARE_IMPORTS.has(name)) problems.push(`${where}: bare import '${name}'`);
    } else if (ts.isExpressionStatement(statement)) {
      if (!decoratesOwnClass(statement.expression)) {
        problems.push(`${where}: runs on import: ${statement.getText().slice(0, 80)}`);
      }
    } else if (!DECLARATIONS.has(statement.kind)) {
      problems.push(`${where}: runs on import: ${statement.getText().slice(0, 80)}`);
    }
  }
}

if (problems.length > 0) {
  console.error(
    `"sideEffects": false no longer holds; move the work into a function, or list the file in` +
      ` package.json "sideEffects":\n  ${problems.join('\n  ')}`,
  );
  process.exit(1);
}
console.log('side effects on import: none');
