import type { AuthKitException } from './authkit.exception.js';
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
 * The error to throw for a refusal in each transport:
 * - `http`: the AuthKitException itself (status + JSON body);
 * - `graphql`: an error whose `extensions` are `{ code, reason, ...extra }` (graphql-js copies
 *   them onto the GraphQL error); not an HttpException, so Apollo keeps our code;
 * - `ws`: a WsException with `{ status: 'error', statusCode, reason, message, ... }`, which Nest
 *   sends as the `exception` event (socket.io) or message (ws);
 * - `rpc`: an RpcException with the same object.
 * Each keeps the AuthKitException as its `cause`.
 */
export function transportError(transport: AuthKitTransport, exception: AuthKitException): Error {
  const body = refusalBody(exception);
  switch (transport) {
    case 'http':
      return exception;
    case 'graphql': {
      // `error` and `message` are HTTP's; GraphQL has its own message field.
      const { statusCode, ...rest } = body;
      delete rest.error;
      delete rest.message;
      const error = new Error(exception.detail, { cause: exception });
      error.name = 'AuthKitGraphQLError';
      return Object.assign(error, {
        extensions: {
          code: GRAPHQL_CODES[statusCode as number] ?? 'INTERNAL_SERVER_ERROR',
          status: statusCode,
          ...rest,
        },
      });
    }
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
