import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
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
import { CLOSE_CODES, ConnectionSessions } from './connection-sessions.js';
import { currentEntry, currentResolution, enterRequest } from './request-context.js';
import { SessionCookie } from './session.cookie.js';
import { SessionSealer } from './session.sealer.js';
import { rejectedToken, SessionResolver } from './session.resolver.js';
import type {
  AuthKitFailureReason,
  AuthKitSession,
  ReplacedSession,
  SessionResolution,
} from './session.types.js';

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
 */
@Injectable()
export class SessionService {
  constructor(
    private readonly resolver: SessionResolver,
    private readonly cookie: SessionCookie,
    private readonly connections: ConnectionSessions,
    @Inject(WORKOS_CLIENT) private readonly workos: WorkOS,
    private readonly sealer: SessionSealer,
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
   * refreshed over HTTP) and makes it the current one, e.g. from your own guard.
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

  /** Refreshes the current cookie session now, in its own organization unless told otherwise. */
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

  /** Moves the current session into another organization the user belongs to. */
  switchOrganization(organizationId: string): Promise<SessionResolution> {
    return this.refresh({ organizationId });
  }

  /**
   * Clears the session cookie, closes this instance's WebSocket connections of the session, and
   * returns WorkOS's logout URL for it (`sid`), which also ends the session at WorkOS. Works
   * after the access token has expired.
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
    return this.workos.userManagement.getLogoutUrl({ sessionId, returnTo: options.returnTo });
  }
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
