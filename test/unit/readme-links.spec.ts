import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The README's links into itself land on a heading: sections move, links must follow. */
describe('README internal links', () => {
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const prose = readme.replace(/```[\s\S]*?```/g, '');
  const anchors = new Set(
    [...prose.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!.replace(/`/g, ''))),
  );
  const links = [...prose.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);

  it('finds links and headings', () => {
    expect(links.length).toBeGreaterThan(5);
    expect(anchors.has('error-reference')).toBe(true);
  });

  it('every #link names a heading', () => {
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });
});
