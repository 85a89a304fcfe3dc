import { AuthKitException } from './authkit.exception.js';
import type { AuthKitTransport } from './carrier.js';

type ErrorClass = new (error: string | object) => Error;

/**
 * Nest's WebSocket and rpc exception handlers only render their own exception classes; the
 * packages that define them are optional, so they are loaded once at boot when installed.
 */
const loaded: { ws?: ErrorClass; rpc?: ErrorClass } = {};

export async function loadTransportErrors(): Promise<void> {
  const [ws, rpc] = await Promise.allSettled([
    import('@nestjs/websockets' as string) as Promise<{ WsException: ErrorClass }>,
    import('@nestjs/microservices' as string) as Promise<{ RpcException: ErrorClass }>,
  ]);
  if (ws.status === 'fulfilled') loaded.ws = ws.value.WsException;
  if (rpc.status === 'fulfilled') loaded.rpc = rpc.value.RpcException;
}

/** GraphQL `extensions.code` for each status, in Apollo's vocabulary. */
const GRAPHQL_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  500: 'INTERNAL_SERVER_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

/** The body every transport carries: what HTTP answers, minus nothing. */
export function refusalBody(exception: AuthKitException): Record<string, unknown> {
  return exception.getResponse() as Record<string, unknown>;
}

/**
 * A refusal in a GraphQL context. Still an AuthKitException, so `@Catch(AuthKitException)`
 * filters see it and Nest does not log it as an unexpected error; graphql-js copies
 * `extensions` onto the GraphQL error. The body it stores has no `statusCode`: Nest's Apollo
 * driver rewrites exceptions whose body has one into its own codes (503 and 404 would become
 * INTERNAL_SERVER_ERROR). `getResponse()` still returns the whole body.
 */
export class AuthKitGraphQLException extends AuthKitException {
  readonly extensions: Record<string, unknown>;

  constructor(exception: AuthKitException) {
    const { statusCode, ...body } = refusalBody(exception);
    const { reason, detail, extra, headers } = exception;
    super({ reason, status: exception.statusCode, detail, extra, headers, body });
    // `error` and `message` are HTTP's; GraphQL has its own message field.
    const rest = { ...body };
    delete rest.error;
    delete rest.message;
    // A GraphQL answer has no headers of its own: HTTP's Retry-After travels here.
    const retryAfter = Number(headers?.['Retry-After']);
    this.extensions = {
      code: GRAPHQL_CODES[statusCode as number] ?? 'INTERNAL_SERVER_ERROR',
      status: statusCode,
      ...(retryAfter > 0 ? { retryAfter } : {}),
      ...rest,
    };
  }

  override getResponse(): Record<string, unknown> {
    return { statusCode: this.statusCode, ...(super.getResponse() as object) };
  }
}

/**
 * The error to throw for a refusal in each transport:
 * - `http`: the AuthKitException itself (status + JSON body);
 * - `graphql`: an AuthKitGraphQLException, whose `extensions` are `{ code, status, reason,
 *   ...extra }` with `code` in Apollo's vocabulary;
 * - `ws`: a WsException with `{ status: 'error', statusCode, reason, message, ... }`, which Nest
 *   sends as the `exception` event (socket.io) or message (ws);
 * - `rpc`: an RpcException with the same object.
 * The ws and rpc ones keep the AuthKitException as their `cause`.
 */
export function transportError(transport: AuthKitTransport, exception: AuthKitException): Error {
  const body = refusalBody(exception);
  switch (transport) {
    case 'http':
      return exception;
    case 'graphql':
      return new AuthKitGraphQLException(exception);
    case 'ws':
    case 'rpc': {
      const Class = loaded[transport];
      if (!Class) return exception;
      const error = new Class({ status: 'error', ...body });
      return Object.assign(error, { cause: exception });
    }
    default:
      return exception;
  }
}
