import { Inject, Logger, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { API_KEY_CREDENTIAL } from '../authkit.constants.js';
import { AuthKitException } from '../context/authkit.exception.js';
import { carrierOf, type AuthKitCarrier, type AuthKitTransport } from '../context/carrier.js';
import { transportError } from '../context/transport-errors.js';
import type { ApiKeyCredential } from './api-key-credential.js';
import { enterRequest, type SessionEntry } from './request-context.js';
import { failureException } from './session-failure.js';
import { SessionResolver } from './session.resolver.js';
import type { AuthKitSession, SessionResolution } from './session.types.js';

const warned = new Set<string>();

/**
 * What AuthKitGuard and FlagGuard share, as `protected` steps a subclass can replace: where the
 * credential and the reply are (`getRequestResponse`), and how a refusal is thrown
 * (`throwException`). Override them to support a transport this package does not know.
 * Extend AuthKitGuard or FlagGuard: Nest builds them, so their constructors are not documented.
 *
 * @example
 * ```ts
 * // gRPC: credentials from the call's metadata (getRequestResponse, as in AccessGuard's
 * // example), refusals as gRPC statuses (PERMISSION_DENIED 7, UNAUTHENTICATED 16):
 * @Injectable()
 * class GrpcAuthKitGuard extends AuthKitGuard {
 *   protected override throwException(context: ExecutionContext, error: AuthKitException): never {
 *     throw new RpcException({ code: error.statusCode === 403 ? 7 : 16, message: error.reason });
 *   }
 * }
 * ```
 * @hideconstructor
 */
export abstract class AuthKitGuardBase implements CanActivate {
  /** The `AuthKit` logger, for a subclass's own warnings. */
  protected readonly logger = new Logger('AuthKit');
  // Properties, not constructor parameters: subclasses keep the constructor they have.
  @Optional() @Inject(API_KEY_CREDENTIAL) private readonly apiKeys?: ApiKeyCredential;

  constructor(
    /** Resolves (and refreshes) sessions, once per request or connection. */
    protected readonly resolver: SessionResolver,
    /** The HTTP adapter, to set a refusal's headers on the reply (Express or Fastify). */
    protected readonly adapterHost: HttpAdapterHost,
  ) {}

  abstract canActivate(context: ExecutionContext): boolean | Promise<boolean>;

  /**
   * The request (or connection) behind any context: HTTP on Express and Fastify, GraphQL over
   * HTTP (Apollo, Mercurius) and graphql-ws, socket.io and `ws`. Refuses other contexts (rpc)
   * with `UNSUPPORTED_CONTEXT`.
   *
   * @example
   * ```ts
   * // A NATS microservice whose messages carry `{ authorization }` headers:
   * @Injectable()
   * class NatsFlagGuard extends FlagGuard {
   *   protected override getRequestResponse(context: ExecutionContext): AuthKitCarrier {
   *     const msg = context.switchToRpc().getContext<NatsContext>();
   *     const headers = { authorization: msg.getHeaders()?.get('authorization') };
   *     return { transport: 'rpc', key: msg, req: { headers } };
   *   }
   * }
   * ```
   */
  protected getRequestResponse(context: ExecutionContext): AuthKitCarrier {
    const carrier = carrierOf(context);
    // A real upgrade request always has headers: none means a `ws` socket's was never handed
    // over, and every message would look signed out.
    if (carrier?.transport === 'ws' && Object.keys(carrier.req.headers).length === 0) {
      if (!warned.has('ws-request')) {
        warned.add('ws-request');
        this.logger.warn(
          "a `ws` socket's upgrade request was never handed over, so its credential cannot be " +
            'read: use app.useWebSocketAdapter(withUpgradeRequests(new WsAdapter(app))), or ' +
            'call sessions.authenticateConnection(client, request) from handleConnection',
        );
      }
    }
    if (carrier) return carrier;
    const type = context.getType<AuthKitTransport>();
    if (!warned.has(type)) {
      warned.add(type);
      this.logger.warn(
        `no credential can be read in a "${type}" context: subclass the guard and override ` +
          'getRequestResponse(context) to say where it is',
      );
    }
    return this.throwException(
      context,
      new AuthKitException({
        reason: 'UNSUPPORTED_CONTEXT',
        status: 401,
        detail: `no credential can be read in a "${type}" context`,
      }),
    );
  }

  /**
   * Throws a refusal in the idiom of the context's transport: the AuthKitException over HTTP
   * (its headers set on the reply first), a GraphQL error with `extensions.code` and
   * `extensions.reason`, a WsException (socket.io `exception` event, ws message), an
   * RpcException.
   */
  protected throwException(context: ExecutionContext, exception: AuthKitException): never {
    const type = context.getType<AuthKitTransport>();
    if (type === 'http') {
      const res = context.switchToHttp().getResponse<object>();
      const adapter = this.adapterHost.httpAdapter;
      for (const [name, value] of Object.entries(exception.headers)) {
        adapter.setHeader(res, name, value);
      }
    }
    throw transportError(type, exception);
  }

  /**
   * Starts (or joins) the resolution and makes it the current request's, synchronously, so
   * FlagService and SessionService see it in later guards, the handler and field resolvers.
   * Refuses (as `getRequestResponse`) with `UNSUPPORTED_CONTEXT` when no credential can be read.
   */
  protected begin(context: ExecutionContext): SessionEntry {
    const entry = this.resolver.entry(this.getRequestResponse(context));
    enterRequest(entry);
    return entry;
  }

  /**
   * The session, or the refusal thrown for its absence; with `maxClaimAge` (a route's own),
   * refreshed first when its claims are older or predate a change affecting it. Refuses as
   * `sessionOf` does.
   */
  protected async requireSession(
    context: ExecutionContext,
    entry: SessionEntry,
    maxClaimAge?: number,
  ): Promise<{
    /** The verified (maybe just refreshed) session. */
    session: AuthKitSession;
    /** Its claims predate a change or `maxClaimAge` and could not be refreshed. */
    stale: boolean;
  }> {
    const resolution =
      maxClaimAge === undefined
        ? await entry.promise
        : await this.resolver.ensureFresh(entry.carrier, maxClaimAge);
    return this.sessionOf(context, resolution);
  }

  /**
   * Where the route accepts WorkOS API keys (`@AllowApiKeys()`, or `apiKeys: true`) and the
   * request has no session but a Bearer value that is no JWT: the key's principal, validated
   * (cached), made the request's session. Anything else is returned as it is.
   */
  protected withApiKey(
    context: ExecutionContext,
    entry: SessionEntry,
    resolution: SessionResolution,
  ): SessionResolution | Promise<SessionResolution> {
    if (resolution.ok || !this.apiKeys) return resolution;
    return this.apiKeys.authenticate(context, entry) ?? resolution;
  }

  /**
   * A settled resolution's session, or its refusal thrown (via `throwException`) with the
   * failure's reason: any `AuthKitFailureReason` (`NO_SESSION`, `EXPIRED_JWT`,
   * `SESSION_REVOKED`, 503 `REFRESH_UNAVAILABLE` …), `INVALID_API_KEY` or
   * `API_KEY_UNAVAILABLE` for a key.
   */
  protected sessionOf(
    context: ExecutionContext,
    resolution: SessionResolution,
  ): {
    /** The verified session. */
    session: AuthKitSession;
    /** Its claims predate a change or `maxClaimAge` and could not be refreshed. */
    stale: boolean;
  } {
    if (!resolution.ok) return this.throwException(context, failureException(resolution.failure));
    return { session: resolution.session, stale: resolution.stale === true };
  }
}
