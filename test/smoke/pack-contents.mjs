// What `npm publish` would ship: only the built package, its TypeScript source (for the maps) and
// the release files; every source map and declaration map pointing at files inside the pack.
// Run after `npm run build` (npm run check:package does both).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '../..');
const [pack] = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }),
);
const files = new Set(pack.files.map((file) => file.path));
const problems = [];

const RELEASE_FILES = new Set([
  'package.json',
  'README.md',
  'LICENSE',
  'CHANGELOG.md',
  'SECURITY.md',
]);
for (const file of files) {
  const allowed =
    RELEASE_FILES.has(file) ||
    (file.startsWith('dist/') && /\.(js|d\.ts)(\.map)?$/.test(file)) ||
    (file.startsWith('lib/') && file.endsWith('.ts') && !file.endsWith('.d.ts'));
  if (!allowed) problems.push(`${file}: not part of the package (tests, fixtures, sample, bench?)`);
}
for (const file of RELEASE_FILES) {
  if (!files.has(file)) problems.push(`${file}: missing from the pack`);
}

// Each emitted file names its map, and the map's sources are shipped: go-to-definition and stack
// traces land in lib/*.ts. A stale dist/ file (its source renamed or deleted) shows up here too.
for (const file of files) {
  if (!file.startsWith('dist/') || file.endsWith('.map')) continue;
  const map = `${file}.map`;
  if (!files.has(map)) problems.push(`${file}: no ${map} in the pack`);
  const comment = readFileSync(join(root, file), 'utf8').match(/\/\/# sourceMappingURL=(\S+)\s*$/);
  if (comment?.[1] !== posix.basename(map)) problems.push(`${file}: does not point at ${map}`);
}
for (const map of [...files].filter((file) => file.endsWith('.map'))) {
  const { sources = [], sourceRoot = '' } = JSON.parse(readFileSync(join(root, map), 'utf8'));
  for (const source of sources) {
    const shipped = posix.normalize(posix.join(posix.dirname(map), sourceRoot, source));
    if (!files.has(shipped)) problems.push(`${map}: source ${shipped} is not in the pack`);
  }
}

if (problems.length > 0) {
  console.error(`npm pack contents (${files.size} files):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`pack contents: ok (${files.size} files, ${pack.size} bytes packed)`);
