import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { AUTHKIT_CONFIG } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import type { AuthKitReason } from '../context/authkit-reason.js';
import { ClaimsWatermark } from './claims-watermark.js';
import { scopeAffects } from './flag-change-log.js';
import { sessionEntries } from './request-context.js';
import { RevokedSessions } from './revoked-sessions.js';
import type { AuthKitSession } from './session.types.js';

/**
 * What a client is told before its connection is closed: refresh over HTTP (a page load or any
 * request with the cookie), then reconnect. socket.io clients receive it as this event; `ws`
 * clients as the message `{ event, data }`; both then see the close.
 *
 * @example
 * ```ts
 * // browser, socket.io client
 * socket.on(REAUTHENTICATE_EVENT, async () => {
 *   await fetch('/api/me', { credentials: 'include' }); // refreshes the cookie
 *   socket.connect();
 * });
 * ```
 */
export const REAUTHENTICATE_EVENT = 'authkit:reauthenticate';

/**
 * WebSocket close codes (4000–4999 are the application's). graphql-ws uses the same two for
 * the same meanings.
 * - 4401: no usable session, or it ended (expired, stale claims, signed out, revoked):
 *   re-authenticate.
 * - 4503: WorkOS or its keys could not be reached: reconnect later, the session may be fine.
 *
 * @example
 * ```ts
 * ws.addEventListener('close', ({ code }) => {
 *   if (code === CLOSE_CODES.unavailable) setTimeout(connect, 5000);
 *   if (code === CLOSE_CODES.reauthenticate) location.reload();
 * });
 * ```
 */
export const CLOSE_CODES = {
  /** 4401: sign in (or refresh over HTTP) again, then reconnect. */
  reauthenticate: 4401,
  /** 4503: WorkOS unreachable; reconnect later. */
  unavailable: 4503,
} as const;

interface Tracked {
  session: AuthKitSession;
  freshAt: number;
  timer?: ReturnType<typeof setTimeout>;
}

interface SocketIoLike {
  emit(event: string, payload: unknown): unknown;
  disconnect(close?: boolean): unknown;
  once(event: 'disconnect', listener: () => void): unknown;
}

interface WebSocketLike {
  readyState: number;
  protocol?: string;
  send(data: string): unknown;
  close(code: number, reason: string): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Ties each WebSocket connection to its session's life: when the token expires, its claims go
 * stale (a flag or access change affecting it, `maxClaimAge`), the session is signed out here
 * or revoked anywhere, the client is told and the connection closed. A socket never refreshes:
 * the refresh token belongs to the browser's cookie, and spending it here would leave that
 * cookie holding a dead one.
 */
@Injectable()
export class ConnectionSessions implements OnModuleDestroy {
  private readonly logger = new Logger('AuthKit');
  private readonly open = new Map<object, Tracked>();
  private readonly stopWatching: () => void;
  private readonly stopRevocations: () => void;

  constructor(
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    private readonly watermark: ClaimsWatermark,
    private readonly revoked: RevokedSessions,
  ) {
    // Revoked here or on a peer: its connections on this instance close at once.
    this.stopRevocations = revoked.onRevoke((sessionId) =>
      this.endSession(sessionId, 'SESSION_REVOKED', 'session revoked'),
    );
    // Only connections whose session the change can affect: a rule change for one
    // organization leaves the others connected.
    this.stopWatching = watermark.onMove((at, scope) => {
      for (const [connection, tracked] of this.open) {
        if (tracked.freshAt < at && scopeAffects(scope, tracked.session))
          this.end(connection, 'STALE_CLAIMS', 'claims changed since the token was issued');
      }
    });
  }

  onModuleDestroy(): void {
    this.stopWatching();
    this.stopRevocations();
    for (const tracked of this.open.values()) clearTimeout(tracked.timer);
    this.open.clear();
  }

  /** Starts watching a connection whose session just resolved (once per connection). */
  track(connection: object, session: AuthKitSession, freshAt: number): void {
    if (this.open.has(connection)) return;
    // Revoked while its handshake was being resolved.
    if (this.revoked.has(session.sessionId)) {
      this.end(connection, 'SESSION_REVOKED', 'session revoked');
      return;
    }
    // Opened after a flag change with an older token: ended as one open at the change would be,
    // or a reconnect with the same cookie would stay stale until its token expires.
    if (freshAt < this.watermark.latestFor(session, freshAt)) {
      this.end(connection, 'STALE_CLAIMS', 'claims changed since the token was issued');
      return;
    }
    const tracked: Tracked = { session, freshAt };
    this.open.set(connection, tracked);
    const forget = () => this.forget(connection);
    if (isSocketIo(connection)) connection.once('disconnect', forget);
    else if (isWebSocket(connection)) connection.once('close', forget);

    const { maxClaimAge } = this.config;
    // A socket (like a Bearer caller) keeps the clock leeway past exp, as the resolver does for
    // it. HTTP refreshes a cookie before exp, so the client sent to refresh gets a new token.
    const expiresAt = (session.claims.exp + this.config.clockToleranceSeconds) * 1000;
    const agedAt = maxClaimAge === undefined ? Infinity : freshAt + maxClaimAge * 1000;
    const at = Math.min(expiresAt, agedAt);
    const reason: AuthKitReason = at === expiresAt ? 'EXPIRED_JWT' : 'STALE_CLAIMS';
    // setTimeout holds 32-bit delays; tokens live minutes, so clamp for safety only.
    const delay = Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1);
    tracked.timer = setTimeout(
      () =>
        this.end(
          connection,
          reason,
          reason === 'EXPIRED_JWT' ? 'access token expired' : 'claims too old',
        ),
      delay,
    );
    tracked.timer.unref?.();
  }

  /**
   * Ends every connection of a session (`sid`) on this instance: after a sign-out here
   * (`SESSION_ENDED`), or a revocation (`SESSION_REVOKED`).
   */
  endSession(
    sessionId: string,
    reason: AuthKitReason = 'SESSION_ENDED',
    detail = 'signed out',
  ): number {
    let ended = 0;
    for (const [connection, tracked] of this.open) {
      if (tracked.session.sessionId !== sessionId) continue;
      this.end(connection, reason, detail);
      ended++;
    }
    return ended;
  }

  /**
   * Tells the client why and closes the connection: socket.io gets the event, then a server
   * disconnect; a `ws` socket gets the message, then the close code; a graphql-ws socket (its
   * protocol has no room for our message) gets the close code with the reason.
   */
  end(
    connection: object,
    reason: AuthKitReason,
    detail: string,
    code: number = CLOSE_CODES.reauthenticate,
  ): void {
    this.forget(connection);
    try {
      if (isSocketIo(connection)) {
        connection.emit(REAUTHENTICATE_EVENT, { reason, message: detail, code });
        connection.disconnect(true);
      } else if (isWebSocket(connection)) {
        if (connection.readyState !== 1) return;
        if (connection.protocol !== 'graphql-transport-ws') {
          connection.send(
            JSON.stringify({
              event: REAUTHENTICATE_EVENT,
              data: { reason, message: detail, code },
            }),
          );
        }
        connection.close(code, reason);
      }
    } catch (error) {
      // A socket that broke while being closed is closed enough; never take the process down.
      this.logger.debug(
        `closing a connection failed: ${error instanceof Error ? error.message : 'unknown'}`,
      );
    }
  }

  private forget(connection: object): void {
    // Its next message (if any arrives before the close) resolves again, and is refused.
    sessionEntries.delete(connection);
    const tracked = this.open.get(connection);
    if (!tracked) return;
    clearTimeout(tracked.timer);
    this.open.delete(connection);
  }
}

function isSocketIo(value: object): value is SocketIoLike {
  const candidate = value as Partial<SocketIoLike> & { handshake?: unknown };
  return (
    typeof candidate.emit === 'function' &&
    typeof candidate.disconnect === 'function' &&
    !!candidate.handshake
  );
}

function isWebSocket(value: object): value is WebSocketLike {
  const candidate = value as Partial<WebSocketLike>;
  return typeof candidate.readyState === 'number' && typeof candidate.close === 'function';
}
