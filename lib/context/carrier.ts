import type { ExecutionContext } from '@nestjs/common';

/**
 * The Nest contexts this package reads credentials from (`ExecutionContext.getType()`).
 *
 * @example
 * ```ts
 * if (context.getType<AuthKitTransport>() === 'rpc') return this.natsCarrier(context);
 * ```
 */
export type AuthKitTransport = 'http' | 'graphql' | 'ws' | 'rpc';

/**
 * The little of a request this package reads: Express' and Fastify's request objects, a
 * WebSocket upgrade request and socket.io's handshake all fit.
 *
 * @example
 * ```ts
 * const req: HttpRequestLike = { headers: { authorization: `Bearer ${token}` } };
 * ```
 */
export interface HttpRequestLike {
  /** Lower-case header names, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The connection; `encrypted` tells a TLS socket from a plain one. */
  // `object &`: a plain net.Socket (no `encrypted`) must fit too, so IncomingMessage does.
  socket?:
    | (object & {
        /** True on a TLS socket. */
        encrypted?: boolean;
      })
    | null;
  /** Path and query of the request. */
  url?: string;
}

/**
 * What a guard needs from any context: where the credential is, what to memoize the session on,
 * and where a refreshed cookie can be written. A guard subclass returns one from
 * `getRequestResponse` for a transport this package cannot read by itself.
 *
 * @example
 * ```ts
 * const carrier: AuthKitCarrier = { transport: 'rpc', key: message, req: { headers } };
 * ```
 */
export interface AuthKitCarrier {
  /** The kind of context, which decides how a refusal is thrown. */
  transport: AuthKitTransport;
  /** One object per HTTP request or WebSocket connection: the session is resolved once per key. */
  key: object;
  /** Headers of the HTTP request, or of the WebSocket upgrade request. */
  req: HttpRequestLike;
  /**
   * The HTTP response, when there is one. Without it the session is never refreshed: a socket
   * that spent the refresh token would leave the browser's cookie holding a dead one.
   */
  res?: object;
  /** A Bearer token carried outside the headers (socket.io `auth`, graphql-ws `connectionParams`). */
  token?: string;
  /** The long-lived connection (socket.io Socket, ws WebSocket) that keeps its session. */
  connection?: object;
}

export function header(req: HttpRequestLike, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The carrier of a plain HTTP request (the built-in routes, `SessionService.authenticate(req, res)`). */
export function httpCarrier(req: HttpRequestLike, res: object): AuthKitCarrier {
  return { transport: 'http', key: req, req, res };
}

type Loose = Record<string, unknown> | undefined | null;
const NO_HEADERS: HttpRequestLike = Object.freeze({ headers: Object.freeze({}) });

/** `ws` sockets do not keep their upgrade request: the handshake hands it over here. */
const upgradeRequests = new WeakMap<object, HttpRequestLike>();

/** Remembers a `ws` connection's upgrade request, so guards on its messages can read it. */
export function rememberUpgradeRequest(connection: object, request: HttpRequestLike): void {
  upgradeRequests.set(connection, request);
}

/**
 * The carrier of any Nest context, or undefined when the context has none this package can
 * read (rpc, or a GraphQL context without its request). Reads argument positions directly, so
 * neither `@nestjs/graphql` nor `@nestjs/websockets` is imported.
 */
export function carrierOf(context: ExecutionContext): AuthKitCarrier | undefined {
  switch (context.getType<AuthKitTransport>()) {
    case 'http': {
      const http = context.switchToHttp();
      const req = http.getRequest<HttpRequestLike | undefined>();
      return isRequest(req)
        ? { transport: 'http', key: req, req, res: http.getResponse() }
        : undefined;
    }
    case 'graphql':
      return graphqlCarrier(context.getArgByIndex<Loose>(2));
    case 'ws':
      return socketCarrier(context.switchToWs().getClient<Loose>());
    default:
      return undefined;
  }
}

/**
 * A GraphQL context: over HTTP (Apollo's `{ req, res }`, Mercurius' `{ req, reply }`), or a
 * graphql-ws subscription (`{ connectionParams, extra: { socket, request } }`, directly or as
 * `req`, which is where Nest's Apollo driver puts it).
 */
export function graphqlCarrier(ctx: Loose): AuthKitCarrier | undefined {
  if (!ctx) return undefined;
  const inner = ctx.req as Loose;
  const subscription = isSubscription(inner) ? inner : isSubscription(ctx) ? ctx : undefined;
  if (subscription) {
    const extra = subscription.extra as { socket: object; request: HttpRequestLike };
    return {
      transport: 'graphql',
      key: extra.socket,
      req: extra.request,
      token: bearerFrom(subscription.connectionParams as Loose),
      connection: extra.socket,
    };
  }
  const req = isRequest(inner) ? inner : isRequest(ctx.request) ? ctx.request : undefined;
  if (!req) return undefined;
  // Mercurius gives subscriptions a stand-in `reply` ({ request }): a refresh there would spend
  // the refresh token and fail to write the cookie.
  const res = [ctx.res, ctx.reply, (req as { res?: unknown }).res].find(isResponse);
  return { transport: 'graphql', key: req, req, res };
}

/** A socket.io Socket (its handshake) or a `ws` WebSocket (its remembered upgrade request). */
export function socketCarrier(client: Loose): AuthKitCarrier | undefined {
  if (!client) return undefined;
  const handshake = client.handshake as Loose;
  if (handshake && isRequest(handshake)) {
    return {
      transport: 'ws',
      key: client,
      req: handshake,
      token: bearerFrom(handshake.auth as Loose),
      connection: client,
    };
  }
  return {
    transport: 'ws',
    key: client,
    req: upgradeRequests.get(client) ?? NO_HEADERS,
    connection: client,
  };
}

function isRequest(value: unknown): value is HttpRequestLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { headers?: unknown }).headers === 'object' &&
    (value as { headers?: unknown }).headers !== null
  );
}

/** An Express or Node response, or a Fastify reply: something a cookie can be written on. */
function isResponse(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { setHeader?: unknown; header?: unknown };
  return typeof candidate.setHeader === 'function' || typeof candidate.header === 'function';
}

function isSubscription(value: Loose): value is Record<string, unknown> {
  const extra = value?.extra as Loose;
  return !!extra && typeof extra.socket === 'object' && isRequest(extra.request);
}

/**
 * A token from a connection payload: `{ token }`, `{ accessToken }` or `{ authorization:
 * 'Bearer …' }` (any case of the key).
 */
function bearerFrom(payload: Loose): string | undefined {
  if (!payload || typeof payload !== 'object') return undefined;
  for (const [key, value] of Object.entries(payload)) {
    if (typeof value !== 'string') continue;
    const name = key.toLowerCase();
    if (name === 'token' || name === 'accesstoken') return value.replace(/^bearer +/i, '');
    if (name === 'authorization' && /^bearer +/i.test(value))
      return value.replace(/^bearer +/i, '');
  }
  return undefined;
}
