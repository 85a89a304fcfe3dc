import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The README's error reference is the contract clients code against: every reason the package
 * can answer with (the unions in authkit-reason.ts) has a row there, and no row names a
 * reason that does not exist.
 */
describe('README error reference', () => {
  const root = process.cwd();
  const source = readFileSync(join(root, 'lib/context/authkit-reason.ts'), 'utf8');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');

  // String literals of the reason unions; comments are dropped first (they quote other words).
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const reasons = new Set([...code.matchAll(/\|\s*'([A-Z_]+)'/g)].map((m) => m[1]!));

  const section = readme.slice(
    readme.indexOf('## Error reference'),
    readme.indexOf('\n## ', readme.indexOf('## Error reference') + 1),
  );
  const rows = new Set([...section.matchAll(/^\| `([A-Z_]+)`\s+\|/gm)].map((m) => m[1]!));

  it('finds the reasons and the section', () => {
    expect(reasons.size).toBeGreaterThan(40);
    expect(section.length).toBeGreaterThan(1000);
  });

  it('has a row for every reason', () => {
    expect([...reasons].filter((reason) => !rows.has(reason))).toEqual([]);
  });

  it('has no row for a reason the package never answers', () => {
    expect([...rows].filter((reason) => !reasons.has(reason))).toEqual([]);
  });
});
