import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { seal, unseal, type CookiePasswords } from '../session/iron.js';
import type { SignInErrorReason } from './sign-in.events.js';

/** How long a started sign-in may take before its state expires. */
export const SIGN_IN_STATE_TTL_SECONDS = 600;

/** What the sealed state cookie carries between `/login` and `/callback`. */
interface SignInState {
  /** Equals the `state` parameter sent to WorkOS. */
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  /** Unix seconds. */
  exp: number;
}

export interface StartedSignIn {
  /** The `state` parameter for the authorization URL. */
  state: string;
  codeChallenge: string;
  /** The sealed value of the state cookie. */
  cookie: string;
}

/** A fresh PKCE verifier (RFC 7636, S256) and state nonce, sealed into the state cookie. */
export function startSignIn(
  returnTo: string,
  password: string | CookiePasswords,
  now = Date.now(),
): StartedSignIn {
  const nonce = randomBytes(24).toString('base64url');
  const codeVerifier = randomBytes(32).toString('base64url');
  const state: SignInState = {
    nonce,
    codeVerifier,
    returnTo,
    exp: Math.floor(now / 1000) + SIGN_IN_STATE_TTL_SECONDS,
  };
  return {
    state: nonce,
    codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    cookie: seal(state, password),
  };
}

export type StateCheck =
  | { ok: true; nonce: string; codeVerifier: string; returnTo: string; exp: number }
  | { ok: false; reason: SignInErrorReason; detail: string };

/** Checks the callback's `state` parameter against the state cookie. */
export function checkSignInState(
  stateParam: unknown,
  cookie: string | undefined,
  password: string | CookiePasswords,
  now = Date.now(),
): StateCheck {
  if (typeof stateParam !== 'string' || stateParam.length === 0) {
    return { ok: false, reason: 'STATE_MISSING', detail: 'the callback has no state parameter' };
  }
  if (cookie === undefined) {
    return {
      ok: false,
      reason: 'STATE_MISSING',
      detail: 'no sign-in state cookie: start again from the login route',
    };
  }
  const opened = cookie.length <= 4096 ? unseal(cookie, password) : undefined;
  const state = opened?.ok ? (opened.data as Partial<SignInState> | null) : undefined;
  if (
    !state ||
    typeof state.nonce !== 'string' ||
    typeof state.codeVerifier !== 'string' ||
    typeof state.returnTo !== 'string' ||
    typeof state.exp !== 'number'
  ) {
    return { ok: false, reason: 'STATE_INVALID', detail: 'the sign-in state cookie is not ours' };
  }
  const a = Buffer.from(state.nonce);
  const b = Buffer.from(stateParam);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    return {
      ok: false,
      reason: 'STATE_MISMATCH',
      detail: 'the state parameter does not belong to this browser',
    };
  }
  if (state.exp * 1000 <= now) {
    return { ok: false, reason: 'STATE_EXPIRED', detail: 'the sign-in took too long: start again' };
  }
  return {
    ok: true,
    nonce: state.nonce,
    codeVerifier: state.codeVerifier,
    returnTo: state.returnTo,
    exp: state.exp,
  };
}

/**
 * Nonces of finished callbacks, kept until their state would have expired anyway, so a
 * replayed callback URL (with its cookie) is refused here, before WorkOS refuses its code.
 */
export class UsedStates {
  private readonly used = new Map<string, number>();

  /** Marks the nonce used; false when it already was. */
  claim(nonce: string, exp: number, now = Date.now()): boolean {
    for (const [key, until] of this.used) {
      if (until * 1000 > now) break; // insertion order ~ expiry order (fixed TTL)
      this.used.delete(key);
    }
    if (this.used.has(nonce)) return false;
    this.used.set(nonce, exp);
    return true;
  }
}
