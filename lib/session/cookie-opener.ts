import { MAX_CREDENTIAL_BYTES } from '../authkit.constants.js';
import type { HttpRequestLike } from '../context/carrier.js';
import type { AccessTokenVerifier, TokenCheck } from './access-token.verifier.js';
import { failure } from './resolution-failures.js';
import type { SessionCookie } from './session.cookie.js';
import type { SessionReference, SessionSealer } from './session.sealer.js';
import type { AccessTokenClaims, AuthKitFailure, SealedSessionData } from './session.types.js';

/**
 * A cookie session ready to refresh: its data, its token's verified claims (possibly expired)
 * and, for a session too large for a cookie, the store entry the cookie referred to.
 */
export type OpenedSession = {
  data: SealedSessionData;
  claims: AccessTokenClaims;
  reference?: SessionReference;
};

/** A cookie that unsealed, with its token checked (possibly expired). */
export type OpenedCookie =
  | { ok: true; data: SealedSessionData; check: TokenCheck; reference?: SessionReference }
  | { ok: false; failure: AuthKitFailure };

/**
 * Reads a session cookie: size-checked, unsealed (or looked up, for a large session's
 * reference), its payload checked, its token verified — expired or not, as a refresh needs it.
 *
 * @example
 * ```ts
 * const opened = await opener.openCookie(req);
 * if (opened.ok && opened.check.status === 'expired') refreshWith(opened.data);
 * ```
 */
export class CookieOpener {
  constructor(
    private readonly cookie: SessionCookie,
    private readonly sealer: SessionSealer,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  /** Unseals this request's cookie and checks its token, expired or not. */
  async openCookie(req: HttpRequestLike): Promise<OpenedCookie> {
    const raw = this.cookie.read(req);
    if (raw === undefined)
      return { ok: false, failure: failure('NO_SESSION', 'no session cookie') };
    return this.open(raw);
  }

  /** The cookie session's `sid`, read from its verified token even after it expired. */
  async cookieSessionId(req: HttpRequestLike): Promise<string | undefined> {
    const opened = await this.openCookie(req);
    return opened.ok && (opened.check.status === 'valid' || opened.check.status === 'expired')
      ? opened.check.claims.sid
      : undefined;
  }

  async open(raw: string): Promise<OpenedCookie> {
    if (raw.length > MAX_CREDENTIAL_BYTES) {
      return { ok: false, failure: failure('INVALID_SESSION', 'cookie too large', 'cookie') };
    }
    const unsealed = await this.sealer.fromCookie(raw);
    if (!unsealed.ok) return unsealed;
    const data = unsealed.data as Partial<SealedSessionData> | null;
    if (
      typeof data !== 'object' ||
      data === null ||
      typeof data.accessToken !== 'string' ||
      typeof data.refreshToken !== 'string'
    ) {
      return {
        ok: false,
        failure: failure('INVALID_SESSION', 'cookie payload incomplete', 'cookie'),
      };
    }
    const check = await this.verifier.verify(data.accessToken);
    return {
      ok: true,
      data: data as SealedSessionData,
      check,
      reference: unsealed.reference,
    };
  }
}
