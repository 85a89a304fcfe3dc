// An older commit's lib/, compiled with that commit's own tsconfig.build.json into
// .bench-dist/old/<commit>/, so the same bench rows can run against the old context layer.
// Source: BENCH_OLD_TREE (a worktree of that commit, with node_modules linked), or else the
// commit BENCH_OLD_REF taken out of git with `git archive` (no worktree needed).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type OldLib = { ok: true; index: string; commit: string } | { ok: false; reason: string };

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function run(command: string, args: string[], input?: Buffer): { ok: boolean; out: Buffer } {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    input,
    maxBuffer: 256 * 1024 * 1024,
  });
  const ok = result.status === 0;
  return { ok, out: ok ? result.stdout : Buffer.concat([result.stdout, result.stderr]) };
}

/** Builds (once per commit; later runs reuse it) and returns the old lib's index.js. */
export function oldLib(ref = process.env.BENCH_OLD_REF ?? 'e133c3f'): OldLib {
  const tree = process.env.BENCH_OLD_TREE;
  const head = run('git', tree ? ['-C', tree, 'rev-parse', 'HEAD'] : ['rev-parse', ref]);
  if (!head.ok) return { ok: false, reason: `git rev-parse: ${head.out.toString().trim()}` };
  const commit = head.out.toString().trim().slice(0, 7);
  const out = join(ROOT, '.bench-dist', 'old', commit);
  const index = join(out, 'dist', 'index.js');
  if (existsSync(index)) return { ok: true, index, commit };

  let src = tree;
  if (!src) {
    src = join(out, 'src');
    mkdirSync(src, { recursive: true });
    const files = ['lib', 'tsconfig.json', 'tsconfig.build.json'];
    const archive = run('git', ['archive', '--format=tar', commit, ...files]);
    if (!archive.ok) return { ok: false, reason: `git archive: ${archive.out.toString()}` };
    const untar = run('tar', ['-x', '-C', src], archive.out);
    if (!untar.ok) return { ok: false, reason: `tar: ${untar.out.toString()}` };
  }
  const build = run(process.execPath, [
    TSC,
    '-p',
    join(src, 'tsconfig.build.json'),
    '--outDir',
    join(out, 'dist'),
    '--declaration',
    'false',
    '--sourceMap',
    'false',
  ]);
  if (!build.ok || !existsSync(index)) {
    // A half-written build must not be mistaken for a good one next time.
    rmSync(join(out, 'dist'), { recursive: true, force: true });
    return { ok: false, reason: `tsc: ${build.out.toString().slice(0, 2000)}` };
  }
  return { ok: true, index, commit };
}
