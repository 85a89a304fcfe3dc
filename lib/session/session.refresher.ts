import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AuthenticationResponse, WorkOS } from '@workos-inc/node';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { AUTHKIT_CONFIG, WORKOS_CLIENT } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { checkClaims } from './access-token.verifier.js';
import { storeKeys } from '../store/store.js';
import { seal, unseal } from './iron.js';
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
/** How often an instance waiting on another's refresh looks for its result. */
const SHARED_POLL_MS = 20;

/**
 * Exchanges refresh tokens, at most one upstream call per refresh token at a time in this
 * process: concurrent callers share the winner's result.
 */
@Injectable()
export class SessionRefresher {
  private readonly logger = new Logger('AuthKit');
  /** This instance's name on the refresh locks it holds. */
  private readonly owner = randomBytes(8).toString('hex');
  private storeFailing = false;
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
      if (!recent.outcome.ok || recent.startedAt >= notBefore)
        return Promise.resolve(recent.outcome);
      return this.refresh(recent.outcome.data, organizationId, notBefore);
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
    const outcome = this.exchangeOnce(key, previous, organizationId, startedAt).then(
      (result) => {
        this.inFlight.delete(key);
        // A dead token stays dead: remember that too, so its other requests do not ask again.
        if (result.ok || result.terminal) {
          this.remember(key, result, result.ok ? result.startedAt : startedAt, Date.now());
        }
        return result;
      },
      (error: unknown): RefreshOutcome => {
        // Never stuck, never a rejection: the next request tries again.
        this.inFlight.delete(key);
        this.logger.error(
          `refresh failed unexpectedly: ${error instanceof Error ? error.message.slice(0, 120) : 'error'}`,
        );
        return { ok: false, terminal: false, detail: 'unexpected refresh error' };
      },
    );
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

  /**
   * One upstream exchange per refresh token across every instance sharing the store: the
   * instance that takes the lock (`SET NX PX`) exchanges and stores the outcome (the sealed
   * session is encrypted with the cookie password); the others wait for it and answer with
   * the same rotated session. A lock whose owner died expires and is taken over. When the
   * store fails, this instance goes on alone (logged once).
   */
  private async exchangeOnce(
    tokenHash: string,
    previous: SealedSessionData,
    organizationId: string | undefined,
    startedAt: number,
  ): Promise<RefreshOutcome> {
    const store = this.config.store;
    if (!store.shared) return this.exchange(previous, organizationId, startedAt);
    const lockKey = storeKeys.refreshLock(store, tokenHash);
    const resultKey = storeKeys.refreshResult(store, tokenHash);
    const lockTtl = this.config.requestTimeoutMs + 2000;
    const deadline = Date.now() + 2 * lockTtl;
    try {
      for (;;) {
        const stored = await store.get(resultKey);
        if (stored !== undefined) return this.storeHealthy(this.fromStored(stored));
        if (await store.setIfAbsent(lockKey, this.owner, lockTtl)) {
          this.storeHealthy();
          const outcome = await this.exchange(previous, organizationId, startedAt);
          await store
            .set(resultKey, this.toStored(outcome), REUSE_WINDOW_MS)
            .catch((error: unknown) => this.storeDown(error));
          return outcome;
        }
        if (Date.now() > deadline) {
          return { ok: false, terminal: false, detail: 'refresh by another instance timed out' };
        }
        await delay(SHARED_POLL_MS);
      }
    } catch (error) {
      this.storeDown(error);
      return this.exchange(previous, organizationId, startedAt);
    }
  }

  private storeDown(error: unknown): void {
    if (this.storeFailing) return;
    this.storeFailing = true;
    this.logger.warn(
      `store unavailable (${error instanceof Error ? error.message.slice(0, 120) : 'error'}): ` +
        'refreshing in this instance alone until it is back',
    );
  }

  private storeHealthy<T>(value?: T): T {
    if (this.storeFailing) {
      this.storeFailing = false;
      this.logger.log('store back: refreshes are coordinated across instances again');
    }
    return value as T;
  }

  private toStored(outcome: RefreshOutcome): string {
    return JSON.stringify(
      outcome.ok
        ? { ok: true, sealed: outcome.sealed, startedAt: outcome.startedAt }
        : { ok: false, terminal: outcome.terminal, detail: outcome.detail },
    );
  }

  private fromStored(stored: string): RefreshOutcome {
    let value:
      | { ok: true; sealed: string; startedAt: number }
      | { ok: false; terminal: boolean; detail: string };
    try {
      value = JSON.parse(stored) as typeof value;
    } catch {
      return { ok: false, terminal: false, detail: 'unusable shared refresh result' };
    }
    if (!value.ok) return value;
    const opened = unseal(value.sealed, this.config.cookiePassword);
    const data = opened.ok ? (opened.data as SealedSessionData) : undefined;
    const check = data
      ? checkClaims(
          Buffer.from(data.accessToken.split('.')[1] ?? '', 'base64url'),
          this.config.issuers,
          Date.now() / 1000,
          this.config.clockToleranceSeconds,
        )
      : undefined;
    if (!data || check?.status !== 'valid') {
      return { ok: false, terminal: false, detail: 'unusable shared refresh result' };
    }
    return {
      ok: true,
      data,
      sealed: value.sealed,
      claims: check.claims,
      startedAt: value.startedAt,
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
