import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AuthenticationResponse, WorkOS } from '@workos-inc/node';
import { createHash } from 'node:crypto';
import { AUTHKIT_CONFIG, WORKOS_CLIENT } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { checkClaims } from './access-token.verifier.js';
import { seal } from './iron.js';
import type { AccessTokenClaims, SealedSessionData } from './session.types.js';

export type RefreshOutcome =
  | {
      ok: true;
      data: SealedSessionData;
      sealed: string;
      claims: AccessTokenClaims;
      /** Unix ms when the exchange started: the token reflects flags as of then, or later. */
      startedAt: number;
    }
  /** terminal: the refresh token is dead (clear the cookie); otherwise WorkOS was unreachable. */
  | { ok: false; terminal: boolean; detail: string };

/** Errors after which the refresh token can never work again (the SDK's own list). */
const TERMINAL_ERRORS = new Set(['invalid_grant', 'mfa_enrollment', 'sso_required']);

/**
 * How long a finished refresh answers for its old refresh token. Requests the browser sent
 * with the old cookie before the new one arrived then get the same rotated session instead
 * of spending a dead token (which WorkOS answers with `invalid_grant`).
 */
const REUSE_WINDOW_MS = 30_000;

/**
 * Exchanges refresh tokens, at most one upstream call per refresh token at a time in this
 * process: concurrent callers share the winner's result.
 */
@Injectable()
export class SessionRefresher {
  private readonly logger = new Logger('AuthKit');
  private readonly inFlight = new Map<
    string,
    { startedAt: number; outcome: Promise<RefreshOutcome> }
  >();
  private readonly recent = new Map<
    string,
    { outcome: RefreshOutcome; startedAt: number; until: number }
  >();

  constructor(
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    @Inject(WORKOS_CLIENT) private readonly workos: WorkOS,
  ) {}

  /**
   * Refreshes `previous` (in `organizationId`). `notBefore` (Unix ms): a result whose exchange
   * started earlier may carry flags from before a change, so it is refreshed once more from
   * its own (new) refresh token instead of being shared.
   */
  refresh(
    previous: SealedSessionData,
    organizationId: string | undefined,
    notBefore = 0,
  ): Promise<RefreshOutcome> {
    const key = createHash('sha256').update(previous.refreshToken).digest('base64url');
    const now = Date.now();
    const recent = this.recent.get(key);
    if (recent && recent.until > now) {
      if (recent.startedAt >= notBefore) return Promise.resolve(recent.outcome);
      if (recent.outcome.ok) return this.refresh(recent.outcome.data, organizationId, notBefore);
    }

    const pending = this.inFlight.get(key);
    if (pending) {
      if (pending.startedAt >= notBefore) return pending.outcome;
      // Under way since before the change: wait for it (its token is spent), then go on.
      return pending.outcome.then((outcome) =>
        outcome.ok ? this.refresh(outcome.data, organizationId, notBefore) : outcome,
      );
    }
    const startedAt = now;
    const outcome = this.exchange(previous, organizationId).then((exchanged) => {
      this.inFlight.delete(key);
      const result: RefreshOutcome = exchanged.ok ? { ...exchanged, startedAt } : exchanged;
      if (result.ok) this.remember(key, result, startedAt, Date.now());
      return result;
    });
    this.inFlight.set(key, { startedAt, outcome });
    return outcome;
  }

  private remember(key: string, outcome: RefreshOutcome, startedAt: number, now: number): void {
    for (const [k, entry] of this.recent) {
      if (entry.until > now) break; // insertion order = expiry order
      this.recent.delete(k);
    }
    this.recent.set(key, { outcome, startedAt, until: now + REUSE_WINDOW_MS });
  }

  private async exchange(
    previous: SealedSessionData,
    organizationId: string | undefined,
  ): Promise<
    | Exclude<RefreshOutcome, { ok: true }>
    | Extract<ReturnType<typeof sessionFromAuthentication>, { ok: true }>
  > {
    let response: AuthenticationResponse;
    try {
      response = await this.workos.userManagement.authenticateWithRefreshToken({
        clientId: this.config.clientId,
        refreshToken: previous.refreshToken,
        organizationId,
      });
    } catch (error) {
      const failure = classifyRefreshError(error);
      this.logger.warn(
        `refresh ${failure.terminal ? 'rejected' : 'unavailable'}: ${failure.detail}` +
          (organizationId ? ` (organization ${organizationId})` : ''),
      );
      return failure;
    }

    const session = sessionFromAuthentication(response, this.config);
    if (!session.ok) {
      this.logger.error(`refresh returned an unusable access token: ${session.detail}`);
      return { ok: false, terminal: false, detail: `unusable access token: ${session.detail}` };
    }
    return session;
  }
}

/**
 * Turns a code or refresh grant's answer into cookie data. The tokens came straight from
 * WorkOS over our own connection: their shape and issuer are checked, not their signature
 * (a JWKS hiccup must not lose a refresh token that is already spent).
 */
export function sessionFromAuthentication(
  response: AuthenticationResponse,
  config: AuthKitConfig,
):
  | { ok: true; data: SealedSessionData; sealed: string; claims: AccessTokenClaims }
  | { ok: false; detail: string } {
  const check = checkClaims(
    Buffer.from(response.accessToken.split('.')[1] ?? '', 'base64url'),
    config.issuers,
    Date.now() / 1000,
    config.clockToleranceSeconds,
  );
  if (check.status !== 'valid') {
    return {
      ok: false,
      detail: check.status === 'expired' ? 'token already expired' : check.detail,
    };
  }
  const data: SealedSessionData = {
    accessToken: response.accessToken,
    refreshToken: response.refreshToken,
    user: response.user,
    organizationId: check.claims.org_id,
    authenticationMethod: response.authenticationMethod,
    impersonator: response.impersonator,
  };
  return { ok: true, data, sealed: seal(data, config.cookiePassword), claims: check.claims };
}

/**
 * Sorts an SDK error into "token dead" vs "try again later". The reason is read from the
 * OAuth `error` field (WorkOS) or a `code` (the official emulator answers reuse with
 * `{ code: 'invalid_grant' }`). Unknown errors keep the session.
 */
export function classifyRefreshError(error: unknown): {
  ok: false;
  terminal: boolean;
  detail: string;
} {
  const e = asRecord(error);
  const raw = asRecord(e.rawData);
  const code =
    [e.error, e.code, raw.error, raw.code].find(
      (value): value is string => typeof value === 'string',
    ) ?? '';
  if (TERMINAL_ERRORS.has(code)) return { ok: false, terminal: true, detail: code };
  const status = typeof e.status === 'number' ? `HTTP ${e.status}` : undefined;
  const name = typeof e.name === 'string' ? e.name : 'error';
  return { ok: false, terminal: false, detail: [status ?? name, code].filter(Boolean).join(' ') };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
