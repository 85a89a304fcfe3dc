import { Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { CookieSerializeOptions } from '@nestjs/common';
import { AUTHKIT_CONFIG, MAX_CREDENTIAL_BYTES } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { header, type HttpRequestLike } from '../context/carrier.js';

/** Reads and writes the session cookie, on Express and Fastify alike (Nest's adapter cookies). */
@Injectable()
export class SessionCookie {
  private readonly logger = new Logger('AuthKit');

  constructor(
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  get name(): string {
    return this.config.cookie.name;
  }

  /** The raw cookie value, found without parsing the whole header (this runs per request). */
  read(req: HttpRequestLike): string | undefined {
    // A resource server keeps no cookie sessions: a cookie there is not a credential.
    if (!this.config.cookies) return undefined;
    return findCookie(header(req, 'cookie'), this.config.cookie.name);
  }

  /**
   * Writes the session cookie; false, logged, and nothing written when the value is over the
   * browsers' limit (SessionSealer keeps such sessions in the store or refuses them first).
   */
  write(res: object, value: string): boolean {
    if (!fitsInCookie(value, this.name)) {
      // Browsers drop such a cookie without a word, and the user is signed out.
      this.logger.error(
        `session cookie of ${value.length} bytes not written: over the browsers' ` +
          `${MAX_CREDENTIAL_BYTES}-byte cookie limit.`,
      );
      return false;
    }
    this.writeOther(res, this.name, value, this.config.cookie.maxAge);
    return true;
  }

  clear(res: object): void {
    this.clearOther(res, this.name);
  }

  /** Another cookie of ours (the sign-in state), read and written with the same attributes. */
  readOther(req: HttpRequestLike, name: string): string | undefined {
    return findCookie(header(req, 'cookie'), name);
  }

  writeOther(res: object, name: string, value: string, maxAge: number): void {
    this.adapterHost.httpAdapter.setCookie(res, name, value, { ...this.attributes(), maxAge });
    this.neverShared(res);
  }

  clearOther(res: object, name: string): void {
    this.adapterHost.httpAdapter.clearCookie(res, name, this.attributes());
    this.neverShared(res);
  }

  /** No shared cache may store a response that carries one user's session for another. */
  private neverShared(res: object): void {
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(res, 'Cache-Control', 'private, no-store');
    const vary = adapter.getHeader(res, 'Vary') as string | string[] | number | undefined;
    if (!/(^|,)\s*(cookie|\*)\s*(,|$)/i.test(String(vary ?? ''))) {
      adapter.appendHeader(res, 'Vary', 'Cookie');
    }
  }

  /** Decided by configuration at boot, never by request headers (a proxy's Host lies). */
  private attributes(): CookieSerializeOptions {
    const { domain, secure, sameSite } = this.config.cookie;
    return {
      path: '/',
      httpOnly: true,
      sameSite,
      secure,
      ...(domain ? { domain } : {}),
    };
  }
}

/** Whether a value fits in one browser cookie: name, `=` and value count (Chrome, Firefox). */
export function fitsInCookie(value: string, name = ''): boolean {
  return (name ? name.length + 1 : 0) + value.length <= MAX_CREDENTIAL_BYTES;
}

export function findCookie(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  const needle = `${name}=`;
  let from = 0;
  while (from < cookieHeader.length) {
    const at = cookieHeader.indexOf(needle, from);
    if (at === -1) return undefined;
    // A match counts only at a pair boundary: `xwos-session=` is another cookie.
    let before = at - 1;
    while (before >= 0 && (cookieHeader[before] === ' ' || cookieHeader[before] === '\t')) before--;
    if (before < 0 || cookieHeader[before] === ';') {
      const end = cookieHeader.indexOf(';', at);
      let value = cookieHeader.slice(at + needle.length, end === -1 ? undefined : end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
        value = value.slice(1, -1);
      return value.includes('%') ? safeDecode(value) : value;
    }
    from = at + needle.length;
  }
  return undefined;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
