// Many distinct sessions for pool rows: each an access token signed by the emulator (RS256) and
// sealed into a cookie, exactly as the code grant and the SDK would make them. Signing is most
// of the cost (~0.3 ms each here), so the pool is made once and every row takes slices of it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkOSEmulator } from '../../lib/testing/index.js';

export interface SessionPool {
  /** Sealed cookie values (no name). */
  sealed: string[];
  /** The access token inside each, for Bearer rows. */
  tokens: string[];
  /** Seconds it took to make them. */
  seconds: number;
}

export async function makeSessionPool(
  emulator: WorkOSEmulator,
  size: number,
  cookiePassword: string,
  owner: { userId: string; organizationId: string },
): Promise<SessionPool> {
  const start = process.hrtime.bigint();
  const sealed: string[] = [];
  const tokens: string[] = [];
  for (let i = 0; i < size; i++) {
    const session = await emulator.createSession(owner);
    tokens.push(session.accessToken);
    sealed.push(emulator.sealSession(session, cookiePassword));
  }
  return { sealed, tokens, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

/**
 * A temporary folder of cookie files (one Cookie header value a line), or of another header's
 * values (`writeLines`), removed by `remove`.
 */
export class CookieFiles {
  private readonly dir = mkdtempSync(join(tmpdir(), 'bench-cookies-'));

  write(name: string, cookieName: string, sealed: readonly string[]): string {
    return this.writeLines(
      name,
      sealed.map((value) => `${cookieName}=${value}`),
    );
  }

  /**
   * A file of header values as given, one a line (a row's `lineHeader` says which header).
   *
   * @example
   * ```ts
   * const file = files.writeLines('keys', keys.map((key) => `Bearer ${key}`));
   * const row = { app, path, cookieFile: file, lineHeader: 'Authorization' };
   * ```
   */
  writeLines(name: string, lines: readonly string[]): string {
    const path = join(this.dir, `${name}.txt`);
    writeFileSync(path, lines.map((line) => `${line}\n`).join(''));
    return path;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
