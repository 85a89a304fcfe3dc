// Type-checks the packed package the way apps see it: each folder here is an app with its own
// tsconfig (node16 ESM, nodenext CommonJS, bundler, commonjs/node10) that imports every entry
// point. The tarball is unpacked into a temporary node_modules/nestjs-authkit, beside links to
// the repository's copies of the peers, so nothing is installed. Run after `npm run build`.
import { execFile, execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const here = dirname(new URL(import.meta.url).pathname);
const root = join(here, '../..');
const repoModules = realpathSync(join(root, 'node_modules'));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const CONSUMERS = ['node16', 'nodenext', 'bundler', 'commonjs'];

const work = mkdtempSync(join(tmpdir(), 'nestjs-authkit-consumers-'));
try {
  const [{ filename }] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  );
  const modules = join(work, 'node_modules');
  mkdirSync(modules);
  execFileSync('tar', ['-xzf', join(work, filename), '-C', modules]);
  renameSync(join(modules, 'package'), join(modules, 'nestjs-authkit'));

  // What an app has installed beside the package: its peers, its dependencies, Node's types.
  const linked = [
    ...Object.keys(manifest.peerDependencies),
    ...Object.keys(manifest.dependencies),
    '@types/node',
  ];
  for (const name of linked) {
    mkdirSync(dirname(join(modules, name)), { recursive: true });
    symlinkSync(join(repoModules, name), join(modules, name), 'dir');
  }

  const tsc = join(repoModules, 'typescript/bin/tsc');
  const failures = [];
  await Promise.all(
    CONSUMERS.map(async (name) => {
      cpSync(join(here, name), join(work, name), { recursive: true });
      try {
        await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', join(work, name)]);
      } catch (error) {
        failures.push(`${name}:\n${error.stdout || error.message}`);
      }
    }),
  );
  if (failures.length > 0) {
    console.error(`consumer type-check failed\n${failures.join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log(`consumer type-check: ok (${CONSUMERS.join(', ')})`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
