import { Inject, Logger, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { AUTHKIT_CONFIG } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { ALLOW_API_KEYS } from '../credentials/allow-api-keys.decorator.js';
import {
  apiKeyResolution,
  presentedApiKey,
  presentsKeyOnConnection,
} from '../credentials/api-key.session.js';
import { ApiKeyValidator, type ApiKeyCheck } from '../credentials/api-key.validator.js';
import { AuthKitException } from '../context/authkit.exception.js';
import { carrierOf, type AuthKitCarrier, type AuthKitTransport } from '../context/carrier.js';
import { transportError } from '../context/transport-errors.js';
import { enterRequest, operationEntry, ownEntry, type SessionEntry } from './request-context.js';
import { failureException } from './session-failure.js';
import { SessionResolver } from './session.resolver.js';
import type { AuthKitSession, SessionResolution } from './session.types.js';

const warned = new Set<string>();

/**
 * What AuthKitGuard and FlagGuard share, as `protected` steps a subclass can replace: where the
 * credential and the reply are (`getRequestResponse`), and how a refusal is thrown
 * (`throwException`). Override them to support a transport this package does not know.
 */
export abstract class AuthKitGuardBase implements CanActivate {
  protected readonly logger = new Logger('AuthKit');
  // Properties, not constructor parameters: subclasses keep the constructor they have.
  @Optional() @Inject(ApiKeyValidator) private readonly apiKeys?: ApiKeyValidator;
  @Optional() @Inject(AUTHKIT_CONFIG) private readonly baseConfig?: AuthKitConfig;
  @Optional() @Inject(Reflector) private readonly baseReflector?: Reflector;

  constructor(
    protected readonly resolver: SessionResolver,
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
   */
  protected begin(context: ExecutionContext): SessionEntry {
    const entry = this.resolver.entry(this.getRequestResponse(context));
    // A key on a connection: this operation's own copy (the session context guard made it).
    const found = ownEntry(entry);
    const own =
      found === entry && presentsKeyOnConnection(entry.carrier) ? operationEntry(entry) : found;
    enterRequest(own);
    return own;
  }

  /**
   * The session, or the refusal thrown for its absence; with `maxClaimAge` (a route's own),
   * refreshed first when its claims are older or predate a change affecting it.
   */
  protected async requireSession(
    context: ExecutionContext,
    entry: SessionEntry,
    maxClaimAge?: number,
  ): Promise<{ session: AuthKitSession; stale: boolean }> {
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
    const value = presentedApiKey(entry.carrier);
    if (value === undefined || !this.acceptsApiKeys(context)) return resolution;
    const check = this.apiKeys.validate(value);
    return check instanceof Promise
      ? check.then((answer) => keyResolution(entry, answer))
      : keyResolution(entry, check);
  }

  private acceptsApiKeys(context: ExecutionContext): boolean {
    if (this.baseConfig?.apiKeys.everywhere) return true;
    return (
      this.baseReflector?.getAllAndOverride(ALLOW_API_KEYS, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }

  /** A settled resolution's session, or its refusal thrown. */
  protected sessionOf(
    context: ExecutionContext,
    resolution: SessionResolution,
  ): { session: AuthKitSession; stale: boolean } {
    if (!resolution.ok) return this.throwException(context, failureException(resolution.failure));
    return { session: resolution.session, stale: resolution.stale === true };
  }
}

/**
 * The key's answer as this request's resolution (on a connection, this operation's), for every
 * later guard and the handler.
 */
function keyResolution(entry: SessionEntry, check: ApiKeyCheck): SessionResolution {
  const resolution = apiKeyResolution(check, Date.now() / 1000);
  entry.resolution = resolution;
  entry.promise = Promise.resolve(resolution);
  return resolution;
}
