import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AuthenticationResponse, WorkOS } from '@workos-inc/node';
import { createHash } from 'node:crypto';
import { AUTHKIT_CONFIG, WORKOS_GRANT_CLIENT } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { AuthKitMetrics } from '../metrics/authkit-metrics.js';
import type { RefreshCause } from '../metrics/refresh-cause.js';
import { checkClaims, type TokenCheck } from './access-token.verifier.js';
import { ExpiringMap } from './expiring-map.js';
import { seal, unseal } from './iron.js';
import { RefreshCoordination, type SharedRefreshResult } from './refresh-coordination.js';
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
  /**
   * terminal: the refresh token is dead (clear the cookie); otherwise WorkOS was unreachable.
   * unanswered: the exchange may have reached WorkOS (timeout, reset, 5xx). spent: WorkOS
   * said invalid_grant while that was in doubt (the new session may still arrive).
   */
  | { ok: false; terminal: boolean; detail: string; unanswered?: boolean; spent?: boolean };

/** Errors after which the refresh token can never work again (the SDK's own list). */
const TERMINAL_ERRORS = new Set(['invalid_grant', 'mfa_enrollment', 'sso_required']);

/**
 * How long a finished refresh answers for its old refresh token. Requests the browser sent
 * with the old cookie before the new one arrived then get the same rotated session instead
 * of spending a dead token (which WorkOS answers with `invalid_grant`).
 */
const REUSE_WINDOW_MS = 30_000;
/**
 * How long a transient failure answers for its refresh token: an outage costs one upstream
 * call per token per window, not one per request (the 503's `Retry-After` is 1 s).
 */
const FAILURE_MEMORY_MS = 1000;
/**
 * How long an `invalid_grant` is doubted after an exchange of the same token went unanswered
 * (timeout, reset, 5xx) or while instances could not coordinate: WorkOS may have rotated the
 * token for a request whose answer we never saw, or another instance holds the new session.
 * Inside it the session is kept (503) and the token is not sent again; after it, it is dead.
 */
const DOUBT_WINDOW_MS = 30_000;

/**
 * Exchanges refresh tokens, at most one upstream call per refresh token at a time in this
 * process (and across instances with a shared store): concurrent callers share the winner's
 * result, and its failure too.
 */
@Injectable()
export class SessionRefresher {
  private readonly logger = new Logger('AuthKit');
  private readonly coordination?: RefreshCoordination;
  private readonly inFlight = new Map<
    string,
    { startedAt: number; outcome: Promise<RefreshOutcome> }
  >();
  /** Sessions and dead tokens, by refresh-token hash. */
  private readonly recent = new ExpiringMap<{ outcome: RefreshOutcome; startedAt: number }>(
    REUSE_WINDOW_MS,
  );
  private readonly failures = new ExpiringMap<RefreshOutcome>(FAILURE_MEMORY_MS);
  /** Tokens whose last exchange went unanswered: their next invalid_grant is doubted. */
  private readonly unanswered = new ExpiringMap<true>(DOUBT_WINDOW_MS);
  /** Tokens answered invalid_grant while doubted: never sent upstream again. */
  private readonly spent = new ExpiringMap<true>(DOUBT_WINDOW_MS);

  constructor(
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    @Inject(WORKOS_GRANT_CLIENT) private readonly workos: WorkOS,
    private readonly metrics: AuthKitMetrics,
  ) {
    if (config.store.shared) {
      this.coordination = new RefreshCoordination(
        config.store,
        config.refreshTimeoutMs + 2000,
        REUSE_WINDOW_MS,
        FAILURE_MEMORY_MS,
        DOUBT_WINDOW_MS,
        metrics,
      );
    }
  }

  /**
   * Refreshes `previous` (in `organizationId`). `notBefore` (Unix ms): a result whose exchange
   * started earlier may carry flags from before a change, so it is refreshed once more from
   * its own (new) refresh token instead of being shared. `cause`: why, for the metrics (a
   * request that joins a refresh under way is not counted again).
   */
  refresh(
    previous: SealedSessionData,
    organizationId: string | undefined,
    notBefore = 0,
    cause: RefreshCause = 'explicit',
  ): Promise<RefreshOutcome> {
    const key = createHash('sha256').update(previous.refreshToken).digest('base64url');
    const now = Date.now();
    const recent = this.recent.get(key, now);
    if (recent) {
      if (!recent.outcome.ok || recent.startedAt >= notBefore)
        return Promise.resolve(recent.outcome);
      return this.refresh(recent.outcome.data, organizationId, notBefore, cause);
    }
    const failed = this.failures.get(key, now);
    if (failed) return Promise.resolve(failed);

    const pending = this.inFlight.get(key);
    if (pending) {
      if (pending.startedAt >= notBefore) return pending.outcome;
      // Under way since before the change: wait for it (its token is spent), then go on.
      return pending.outcome.then((outcome) =>
        outcome.ok ? this.refresh(outcome.data, organizationId, notBefore, cause) : outcome,
      );
    }
    const startedAt = now;
    const outcome = this.attempt(key, previous, organizationId, startedAt).then(
      (result) => {
        this.inFlight.delete(key);
        if (result.ok || result.terminal) {
          this.recent.set(key, {
            outcome: result,
            startedAt: result.ok ? result.startedAt : startedAt,
          });
        } else {
          this.failures.set(key, result);
        }
        this.metrics.refresh(cause, result);
        return result;
      },
      (error: unknown): RefreshOutcome => {
        // Never stuck, never a rejection: the next request tries again.
        this.inFlight.delete(key);
        this.logger.error(
          `refresh failed unexpectedly: ${error instanceof Error ? error.message.slice(0, 120) : 'error'}`,
        );
        this.metrics.refresh(cause, { ok: false, terminal: false });
        return { ok: false, terminal: false, detail: 'unexpected refresh error' };
      },
    );
    this.inFlight.set(key, { startedAt, outcome });
    return outcome;
  }

  /** One attempt: coordinated through the shared store when there is one. */
  private async attempt(
    key: string,
    previous: SealedSessionData,
    organizationId: string | undefined,
    startedAt: number,
  ): Promise<RefreshOutcome> {
    const coordination = this.coordination;
    if (!coordination) {
      if (this.spent.get(key)) return stillSpent();
      return this.judge(key, await this.exchange(previous, organizationId, startedAt), false);
    }
    const turn = await coordination.begin(key);
    if (turn.kind === 'shared') return this.fromShared(turn.result);
    if (turn.kind === 'unreachable') return { ok: false, terminal: false, detail: turn.detail };
    // This instance holds the lock, or nobody could be asked: it exchanges.
    const outcome = this.spent.get(key)
      ? stillSpent()
      : this.judge(
          key,
          await this.exchange(previous, organizationId, startedAt),
          turn.kind === 'alone' || turn.uncertain || coordination.troubled,
        );
    // Not awaited: this instance's callers need not wait on a slow store.
    void coordination.settle(key, toShared(outcome));
    return outcome;
  }

  /**
   * An `invalid_grant` is the end of the session only when nothing else can explain it: not
   * after an unanswered exchange of the same token, not while instances could not coordinate.
   */
  private judge(key: string, outcome: RefreshOutcome, uncertain: boolean): RefreshOutcome {
    if (outcome.ok) return outcome;
    if (!outcome.terminal) {
      if (outcome.unanswered) this.unanswered.set(key, true);
      return outcome;
    }
    if (outcome.detail !== 'invalid_grant' || (!uncertain && !this.unanswered.get(key))) {
      return outcome;
    }
    this.spent.set(key, true);
    this.logger.warn(
      'refresh token already used, but an earlier exchange went unanswered or instances could ' +
        'not coordinate: session kept (503) while the new one may still arrive',
    );
    return stillSpent();
  }

  private fromShared(result: SharedRefreshResult): RefreshOutcome {
    if (!result.ok) {
      if (result.spent) return stillSpent();
      return { ok: false, terminal: result.terminal, detail: result.detail };
    }
    const opened = unseal(result.sealed, this.config.cookiePassword);
    const data = opened.ok ? (opened.data as SealedSessionData | null) : undefined;
    const check = data ? issuedTokenClaims(data.accessToken, this.config) : undefined;
    if (!data || check?.status !== 'valid') {
      return { ok: false, terminal: false, detail: 'unusable shared refresh result' };
    }
    return {
      ok: true,
      data,
      sealed: result.sealed,
      claims: check.claims,
      startedAt: result.startedAt,
    };
  }

  private async exchange(
    previous: SealedSessionData,
    organizationId: string | undefined,
    startedAt: number,
  ): Promise<RefreshOutcome> {
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
    return { ...session, startedAt };
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
  // An answer without tokens (a proxy's, a broken deploy's) is a transient failure, not a crash.
  if (
    typeof response !== 'object' ||
    response === null ||
    typeof response.accessToken !== 'string' ||
    typeof response.refreshToken !== 'string' ||
    response.refreshToken.length === 0
  ) {
    return { ok: false, detail: 'answer without tokens' };
  }
  const check = issuedTokenClaims(response.accessToken, config);
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
 * The claims of a token that came from WorkOS over our own connection (or from a peer's stored
 * result, sealed with our password): shape, issuer and times are checked, not the signature.
 */
function issuedTokenClaims(accessToken: unknown, config: AuthKitConfig): TokenCheck {
  if (typeof accessToken !== 'string') return { status: 'invalid', detail: 'no access token' };
  return checkClaims(
    Buffer.from(accessToken.split('.')[1] ?? '', 'base64url'),
    config.issuers,
    Date.now() / 1000,
    config.clockToleranceSeconds,
  );
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
  unanswered: boolean;
} {
  const e = asRecord(error);
  const raw = asRecord(e.rawData);
  const code =
    [e.error, e.code, raw.error, raw.code].find(
      (value): value is string => typeof value === 'string',
    ) ?? '';
  if (TERMINAL_ERRORS.has(code)) {
    return { ok: false, terminal: true, detail: code, unanswered: false };
  }
  const status = typeof e.status === 'number' ? e.status : undefined;
  const name = typeof e.name === 'string' ? e.name : 'error';
  return {
    ok: false,
    terminal: false,
    detail: [status === undefined ? name : `HTTP ${status}`, code].filter(Boolean).join(' '),
    // No answer (the SDK reports its own timeout as 408), or a gateway's 5xx: WorkOS may
    // have rotated the token all the same.
    unanswered: status === undefined || status === 408 || status >= 500,
  };
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function stillSpent(): RefreshOutcome {
  return {
    ok: false,
    terminal: false,
    detail: 'refresh token already used; waiting for the session it was exchanged for',
    spent: true,
  };
}

function toShared(outcome: RefreshOutcome): SharedRefreshResult {
  if (outcome.ok) return { ok: true, sealed: outcome.sealed, startedAt: outcome.startedAt };
  if (outcome.spent) {
    return { ok: false, terminal: false, detail: outcome.detail, spent: true };
  }
  return { ok: false, terminal: outcome.terminal, detail: outcome.detail };
}
