import { Inject, Injectable, Logger, type ExecutionContext } from '@nestjs/common';
import type { WorkOS } from '@workos-inc/node';
import { WORKOS_CLIENT } from '../authkit.constants.js';
import {
  carrierOf,
  graphqlCarrier,
  httpCarrier,
  rememberUpgradeRequest,
  socketCarrier,
  type HttpRequestLike,
} from '../context/carrier.js';
import { ClaimsWatermark } from './claims-watermark.js';
import { CLOSE_CODES, ConnectionSessions } from './connection-sessions.js';
import { scopeFrom, type FlagChangeScope } from './flag-change-log.js';
import { currentEntry, currentResolution, enterRequest } from './request-context.js';
import { RevokedSessions, type RevocationReach } from './revoked-sessions.js';
import { SessionCookie } from './session.cookie.js';
import { SessionSealer } from './session.sealer.js';
import { rejectedToken } from './resolution-failures.js';
import { SessionResolver } from './session.resolver.js';
import type {
  AuthKitFailureReason,
  AuthKitSession,
  ReplacedSession,
  SessionResolution,
} from './session.types.js';

/**
 * What `SessionService.revoke()` did: `upstream` — WorkOS revoked the session too (its refresh
 * token is dead); false when that call failed (logged; the revocation still applies here and
 * on every instance until the session's tokens have expired). `reach` — whether the other
 * instances know (see RevocationReach).
 *
 * @example
 * ```ts
 * const { upstream, reach } = await this.sessions.revoke(sessionId);
 * if (!upstream) alertOps('WorkOS did not revoke', sessionId);
 * ```
 */
export interface SessionRevocation {
  /** The revoked session (`sid`). */
  sessionId: string;
  /** WorkOS revoked it too. */
  upstream: boolean;
  /** Which instances refuse it: this one only, or every one sharing the store. */
  reach: RevocationReach;
}

/**
 * Session operations for code that needs more than the guards and decorators give.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class AdminGuard implements CanActivate {
 *   constructor(private readonly sessions: SessionService) {}
 *   async canActivate(context: ExecutionContext) {
 *     const resolution = await this.sessions.authenticate(context);
 *     return resolution.ok && resolution.session.permissions.includes('admin:all');
 *   }
 * }
 * ```
 * @hideconstructor
 */
@Injectable()
export class SessionService {
  private readonly logger = new Logger('AuthKit');

  constructor(
    private readonly resolver: SessionResolver,
    private readonly cookie: SessionCookie,
    private readonly connections: ConnectionSessions,
    @Inject(WORKOS_CLIENT) private readonly workos: WorkOS,
    private readonly sealer: SessionSealer,
    private readonly revoked: RevokedSessions,
    private readonly watermark: ClaimsWatermark,
  ) {}

  /**
   * The current request's session, or undefined when it has none. Available in your guards
   * (those that run after AuthKit's global one), handlers, resolvers and gateway handlers; in a
   * guard that may run earlier, `await authenticate(context)` instead.
   */
  current(): AuthKitSession | undefined {
    const resolution = currentResolution();
    return resolution?.ok ? resolution.session : undefined;
  }

  /**
   * The session the current request arrived with, when it was refreshed on the way in (an
   * expired token, a flag change affecting it, `maxClaimAge`, or `refresh()`), and why.
   *
   * @example
   * ```ts
   * const replaced = this.sessions.refreshedFrom();
   * // { cause: 'flag_change', claims: { feature_flags: [], iat: 1764… , … } }
   * ```
   */
  refreshedFrom(): ReplacedSession | undefined {
    const resolution = currentResolution();
    return resolution?.ok ? resolution.replaced : undefined;
  }

  /**
   * Resolves the session of any context (once per request or connection; an expired cookie is
   * refreshed over HTTP) and makes it the current one, e.g. from your own guard. Never throws:
   * a failure's reason is one of `AuthKitFailureReason` (`NO_SESSION`, `INVALID_SESSION`,
   * `INVALID_JWT`, `EXPIRED_JWT`, `SESSION_REVOKED`, `SESSION_NOT_FOUND`, `REFRESH_FAILED`;
   * 503 `REFRESH_UNAVAILABLE`, `JWKS_UNAVAILABLE`, `STORE_UNAVAILABLE`; 500
   * `SESSION_TOO_LARGE`), or `UNSUPPORTED_CONTEXT` for a context without a credential.
   *
   * @example
   * ```ts
   * const resolution = await this.sessions.authenticate(context);
   * if (!resolution.ok) throw new AuthKitException(resolution.failure);
   * ```
   */
  authenticate(context: ExecutionContext): Promise<SessionResolution>;
  /** The same for a plain HTTP request and its response. */
  authenticate(req: HttpRequestLike, res: object): Promise<SessionResolution>;
  authenticate(
    contextOrReq: ExecutionContext | HttpRequestLike,
    res?: object,
  ): Promise<SessionResolution> {
    const carrier =
      res === undefined && isExecutionContext(contextOrReq)
        ? carrierOf(contextOrReq)
        : httpCarrier(contextOrReq as HttpRequestLike, res as object);
    if (!carrier) return Promise.resolve(unsupported('no credential can be read in this context'));
    const entry = this.resolver.entry(carrier);
    enterRequest(entry);
    return entry.promise;
  }

  /**
   * Authenticates a WebSocket connection at its handshake — call it from `handleConnection`
   * (socket.io `Socket`, or a `ws` socket with its upgrade request) or from graphql-ws'
   * `onConnect` (its context). Without a usable session the client is told (event
   * `authkit:reauthenticate`) and the connection closed: 4401, or 4503 while WorkOS is
   * unreachable. With one, the connection is closed the same way when its token expires, its
   * claims go stale, or it is signed out here. A connection never refreshes the session.
   * Answers with the reasons of `authenticate()`; `UNSUPPORTED_CONTEXT` for anything but a
   * WebSocket connection or graphql-ws context.
   *
   * @example
   * ```ts
   * @WebSocketGateway()
   * export class EventsGateway implements OnGatewayConnection {
   *   constructor(private readonly sessions: SessionService) {}
   *   handleConnection(client: WebSocket, request: IncomingMessage) {
   *     return this.sessions.authenticateConnection(client, request);
   *   }
   * }
   * ```
   */
  async authenticateConnection(
    client: object,
    request?: HttpRequestLike,
  ): Promise<SessionResolution> {
    if (request) rememberUpgradeRequest(client, request);
    const loose = client as Record<string, unknown>;
    const carrier = 'extra' in loose ? graphqlCarrier(loose) : socketCarrier(loose);
    if (!carrier?.connection)
      return unsupported('not a WebSocket connection or graphql-ws context');
    const resolution = await this.resolver.resolve(carrier);
    if (!resolution.ok) {
      const { reason, detail, status } = resolution.failure;
      this.connections.end(
        carrier.connection,
        reason,
        detail,
        status === 503 ? CLOSE_CODES.unavailable : CLOSE_CODES.reauthenticate,
      );
    }
    return resolution;
  }

  /**
   * Refreshes the current cookie session now, in its own organization unless told otherwise
   * (the new cookie goes out with the response). Answers `NO_SESSION` outside a request,
   * `UNSUPPORTED_CONTEXT` on a WebSocket connection (it has no response to write a cookie to),
   * the cookie's own failure (`INVALID_SESSION`, `SESSION_REVOKED` …), or the refresh's
   * (`REFRESH_FAILED`, 503 `REFRESH_UNAVAILABLE`, 500 `SESSION_TOO_LARGE`).
   *
   * @example
   * ```ts
   * await this.sessions.refresh(); // after changing the user's roles at WorkOS
   * ```
   */
  async refresh(options: { organizationId?: string } = {}): Promise<SessionResolution> {
    const entry = currentEntry();
    if (!entry) return failed('NO_SESSION', 'no session cookie');
    if (!entry.carrier.res) {
      return unsupported(
        'a WebSocket connection never refreshes: refresh over HTTP, then reconnect',
      );
    }
    const opened = await this.resolver.openCookie(entry.carrier.req);
    if (!opened.ok) return opened;
    const { data, check, reference } = opened;
    if (check.status !== 'valid' && check.status !== 'expired')
      return rejectedToken(check, 'cookie');
    return this.resolver.refreshCookie(
      entry.carrier,
      { data, claims: check.claims, reference },
      options.organizationId ?? check.claims.org_id ?? data.organizationId,
    );
  }

  /**
   * Moves the current session into another organization the user belongs to: a refresh in that
   * organization, with `refresh()`'s answers. Membership is not checked first (the built-in
   * switch route does, answering 403 `NOT_A_MEMBER`): WorkOS refuses the refresh instead.
   *
   * @example
   * ```ts
   * const resolution = await this.sessions.switchOrganization('org_123');
   * ```
   */
  switchOrganization(organizationId: string): Promise<SessionResolution> {
    return this.refresh({ organizationId });
  }

  /**
   * Revokes a session (`sid`) everywhere: every instance refuses its cookie, Bearer tokens and
   * WebSocket connections at once (401 `SESSION_REVOKED`, never refreshed), and WorkOS is asked
   * to revoke it too (`userManagement.revokeSession`) so its refresh token dies. A failed
   * WorkOS call is logged and the revocation still applies here.
   *
   * @example
   * ```ts
   * @Post('admin/sessions/:sid/revoke')
   * revoke(@Param('sid') sid: string) {
   *   return this.sessions.revoke(sid); // { sessionId, upstream: true, reach: 'shared' }
   * }
   * ```
   */
  async revoke(sessionId: string): Promise<SessionRevocation> {
    // Here (and in the store) first: refused at once, whatever WorkOS answers.
    const reach = await this.revoked.revoke(sessionId, 'revoke');
    return { sessionId, upstream: await this.revokeUpstream(sessionId), reach };
  }

  /**
   * Marks the claims of some sessions stale — their user's, their organization's, or every
   * session's — as an access change would (a role or membership changed in a feed of your
   * own): each is refreshed on its next request (cookies), a Bearer token is treated as after a
   * flag change, a WebSocket connection is closed. Shared with every instance.
   *
   * @example
   * ```ts
   * this.sessions.invalidate({ users: [userId] }, 'role changed in admin UI');
   * this.sessions.invalidate('permission catalogue changed'); // every session
   * ```
   */
  invalidate(detail?: string): void;
  invalidate(scope: Exclude<FlagChangeScope, 'all'>, detail?: string): void;
  invalidate(scopeOrDetail?: Exclude<FlagChangeScope, 'all'> | string, detail?: string): void {
    if (typeof scopeOrDetail === 'object') {
      // Checked as a peer's would be: anything but lists of ids means every session.
      this.watermark.move('invalidate', {
        kind: 'access',
        detail,
        scope: scopeFrom(scopeOrDetail),
      });
    } else {
      this.watermark.move('invalidate', { kind: 'access', detail: scopeOrDetail });
    }
  }

  /**
   * Clears the session cookie, closes this instance's WebSocket connections of the session,
   * revokes the session (`sid`) on every instance — a copy of its cookie or its access token is
   * refused from now on — and returns WorkOS's logout URL for it, which also ends the session
   * at WorkOS. Works after the access token has expired. Undefined when the request has no
   * session to end.
   *
   * @example
   * ```ts
   * @Post('sign-out')
   * async signOut(@Res() res: Response) {
   *   res.redirect(303, (await this.sessions.signOut({ returnTo: 'https://example.com' })) ?? '/');
   * }
   * ```
   */
  async signOut(options: { returnTo?: string } = {}): Promise<string | undefined> {
    const entry = currentEntry();
    if (!entry) return undefined;
    const { carrier, resolution } = entry;
    const sessionId = resolution?.ok
      ? resolution.session.sessionId
      : await this.resolver.cookieSessionId(carrier.req);
    const raw = this.cookie.read(carrier.req);
    if (carrier.res && raw !== undefined) {
      this.cookie.clear(carrier.res);
      await this.sealer.forget(raw);
    }
    if (!sessionId) return undefined;
    this.connections.endSession(sessionId);
    await this.revoked.revoke(sessionId, 'sign-out');
    return this.workos.userManagement.getLogoutUrl({ sessionId, returnTo: options.returnTo });
  }

  /** Best effort: true when WorkOS revoked the session (its refresh token is dead). */
  private async revokeUpstream(sessionId: string): Promise<boolean> {
    const { userManagement } = this.workos as {
      userManagement: Partial<Pick<WorkOS['userManagement'], 'revokeSession'>>;
    };
    if (typeof userManagement.revokeSession !== 'function') {
      this.logger.warn(
        'session revoked here only: this @workos-inc/node has no userManagement.revokeSession ' +
          '(upgrade it so WorkOS ends the session too)',
      );
      return false;
    }
    try {
      await userManagement.revokeSession({ sessionId });
      return true;
    } catch (error) {
      this.logger.warn(
        `WorkOS did not revoke session ${sessionId} (its refresh token may still work ` +
          `elsewhere; refused here until its tokens expire): ${describeError(error)}`,
      );
      return false;
    }
  }
}

/** An error's class and status, never its data (SDK errors can carry request bodies). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return 'error';
  const status = (error as { status?: unknown }).status;
  return `${error.name}${typeof status === 'number' ? ` (HTTP ${status})` : ''}`;
}

function isExecutionContext(value: object): value is ExecutionContext {
  return typeof (value as Partial<ExecutionContext>).getType === 'function';
}

function failed(reason: AuthKitFailureReason, detail: string): SessionResolution {
  return { ok: false, failure: { reason, status: 401, detail } };
}

function unsupported(detail: string): SessionResolution {
  return failed('UNSUPPORTED_CONTEXT', detail);
}
