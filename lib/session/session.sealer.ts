import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AUTHKIT_CONFIG, MAX_CREDENTIAL_BYTES } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { AuthKitMetrics } from '../metrics/authkit-metrics.js';
import { storeKeys } from '../store/store.js';
import { seal, unseal } from './iron.js';
import { fitsInCookie } from './session.cookie.js';
import type { AuthKitFailure, SealedSessionData } from './session.types.js';

/**
 * How long a replaced store entry still answers: requests the browser sent with the previous
 * reference cookie before the new one arrived still find their session.
 */
const REPLACED_ENTRY_TTL_MS = 60_000;
const REFERENCE_VERSION = 1;

/** A session kept in the store: its id and the seal stored under it. */
export interface SessionReference {
  id: string;
  sealed: string;
}

export type CookieValue =
  | { ok: true; value: string }
  | {
      ok: false;
      reason: 'SESSION_TOO_LARGE' | 'STORE_UNAVAILABLE';
      status: 500 | 503;
      detail: string;
    };

export type OpenedValue =
  | { ok: true; data: unknown; reference?: SessionReference }
  | { ok: false; failure: AuthKitFailure };

/**
 * What the session cookie holds. A session whose seal fits in a cookie is the cookie, as
 * @workos-inc/node and authkit-nextjs write it. One that does not (a token with many
 * permissions) is kept in the store, and the cookie holds a sealed `{ v: 1, ref }` instead,
 * encrypted and authenticated with the same passwords, so a reference cannot be forged; or,
 * where nothing is configured to keep it, refused loudly: a cookie the browser would drop
 * silently signs the user out.
 */
@Injectable()
export class SessionSealer implements OnModuleInit {
  private readonly logger = new Logger('AuthKit');
  /**
   * One cookie value per refreshed session in this process: the requests that shared a
   * refresh share its store entry too (keyed by the outcome's data object).
   */
  private readonly written = new WeakMap<SealedSessionData, Promise<CookieValue>>();

  constructor(
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    private readonly metrics: AuthKitMetrics,
  ) {}

  onModuleInit(): void {
    if (this.config.largeSessions === 'store' && !this.config.store.shared) {
      this.logger.log(
        'largeSessions: sessions over 4 KiB are kept in this process (the in-process store): ' +
          'they end when it restarts and other instances do not see them; use RedisStore to share them',
      );
    }
  }

  /**
   * The cookie value for a session sealed as `sealed`. `previous`: the store entry the
   * request's cookie referred to, kept a little longer for requests already under way.
   */
  toCookie(
    session: { data: SealedSessionData; sealed: string },
    previous?: SessionReference,
  ): Promise<CookieValue> {
    if (fitsInCookie(session.sealed, this.config.cookie.name)) {
      // Small again (fewer permissions): the store entry is no longer needed.
      if (previous) void this.shorten(previous);
      return Promise.resolve({ ok: true, value: session.sealed });
    }
    let written = this.written.get(session.data);
    if (!written) {
      written = this.keep(session.sealed, previous);
      this.written.set(session.data, written);
      // A store that failed may be back for the next request.
      void written.then((value) => {
        if (!value.ok && value.reason === 'STORE_UNAVAILABLE') this.written.delete(session.data);
      });
    }
    return written;
  }

  /** Unseals a cookie value, reading the store when it is a reference. */
  async fromCookie(raw: string): Promise<OpenedValue> {
    const unsealed = unseal(raw, this.config.cookiePassword);
    if (!unsealed.ok) return invalid(`cookie ${unsealed.reason}`);
    const id = referenceId(unsealed.data);
    if (id === undefined) return { ok: true, data: unsealed.data };

    const store = this.config.store;
    let sealed: string | undefined;
    try {
      sealed = await store.get(storeKeys.session(store, id));
    } catch (error) {
      this.metrics.storeFallback('read');
      this.logger.warn(`session store unreachable on read: ${describe(error)}`);
      return {
        ok: false,
        failure: {
          reason: 'STORE_UNAVAILABLE',
          status: 503,
          detail: 'the session store could not be reached',
          source: 'cookie',
        },
      };
    }
    if (sealed === undefined) {
      return {
        ok: false,
        failure: {
          reason: 'SESSION_NOT_FOUND',
          status: 401,
          detail: 'the session this cookie refers to is no longer in the store',
          source: 'cookie',
        },
      };
    }
    const stored = unseal(sealed, this.config.cookiePassword);
    if (!stored.ok) return invalid(`stored session ${stored.reason}`);
    return { ok: true, data: stored.data, reference: { id, sealed } };
  }

  /** Drops the store entry a cookie refers to (sign-out); best effort. */
  async forget(raw: string | undefined): Promise<void> {
    if (raw === undefined || raw.length > MAX_CREDENTIAL_BYTES) return;
    const unsealed = unseal(raw, this.config.cookiePassword);
    const id = unsealed.ok ? referenceId(unsealed.data) : undefined;
    if (id === undefined) return;
    const store = this.config.store;
    await store.delete(storeKeys.session(store, id)).catch((error: unknown) => {
      this.metrics.storeFallback('delete');
      this.logger.warn(`session store unreachable on sign-out: ${describe(error)}`);
    });
  }

  private async keep(sealed: string, previous?: SessionReference): Promise<CookieValue> {
    const size = `the sealed session is ${sealed.length} bytes, over the ${MAX_CREDENTIAL_BYTES}-byte cookie limit`;
    if (this.config.largeSessions === 'refuse') {
      // Never written: browsers drop such a cookie without a word and the user is signed out.
      this.logger.error(
        `${size}: not written, the session is refused (SESSION_TOO_LARGE). Fix: use RedisStore ` +
          "(sessions over 4 KiB are then kept in it), or largeSessions: 'store', or trim the " +
          "token's roles/permissions/entitlements.",
      );
      return {
        ok: false,
        reason: 'SESSION_TOO_LARGE',
        status: 500,
        detail: `${size}, and no store is configured to keep it`,
      };
    }
    const store = this.config.store;
    const id = randomBytes(32).toString('base64url');
    try {
      await store.set(storeKeys.session(store, id), sealed, this.config.cookie.maxAge * 1000);
    } catch (error) {
      this.metrics.storeFallback('write');
      this.logger.warn(`session store unreachable on write: ${describe(error)}`);
      return {
        ok: false,
        reason: 'STORE_UNAVAILABLE',
        status: 503,
        detail: 'the session store could not be reached',
      };
    }
    if (previous) await this.shorten(previous);
    return {
      ok: true,
      value: seal({ v: REFERENCE_VERSION, ref: id }, this.config.cookiePassword),
    };
  }

  /** Shortened, not deleted: requests under way with the previous cookie still find it. */
  private shorten(previous: SessionReference): Promise<void> {
    const store = this.config.store;
    return store
      .set(storeKeys.session(store, previous.id), previous.sealed, REPLACED_ENTRY_TTL_MS)
      .catch((error: unknown) => {
        this.metrics.storeFallback('write');
        this.logger.warn(`session store: ${describe(error)}`);
      });
  }
}

/** The store id of a reference payload, or undefined for a session payload. */
function referenceId(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { v, ref } = data as { v?: unknown; ref?: unknown };
  return v === REFERENCE_VERSION && typeof ref === 'string' && /^[\w-]{43}$/.test(ref)
    ? ref
    : undefined;
}

function invalid(detail: string): OpenedValue {
  return {
    ok: false,
    failure: { reason: 'INVALID_SESSION', status: 401, detail, source: 'cookie' },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 120) : 'error';
}
