import type { WebSocketAdapter } from '@nestjs/common';
import { rememberUpgradeRequest, type HttpRequestLike } from './carrier.js';

/**
 * Makes a WebSocket adapter hand each connection's upgrade request to AuthKit, so guards on a
 * `ws` gateway's messages read the handshake's cookie or `Authorization` header as they do on
 * socket.io, with no `handleConnection`. A `ws` socket forgets its upgrade request: Nest passes
 * it only to the adapter's connection callback and to `handleConnection`. Harmless on
 * socket.io, whose sockets keep their handshake.
 *
 * @example
 * ```ts
 * app.useWebSocketAdapter(withUpgradeRequests(new WsAdapter(app)));
 * ```
 */
export function withUpgradeRequests<A extends WebSocketAdapter>(adapter: A): A {
  const bind = adapter.bindClientConnect.bind(adapter);
  adapter.bindClientConnect = (server: unknown, callback: (...args: unknown[]) => unknown) =>
    bind(server, (client: unknown, request: unknown, ...rest: unknown[]) => {
      if (typeof client === 'object' && client !== null && isRequest(request)) {
        rememberUpgradeRequest(client, request);
      }
      return callback(client, request, ...rest);
    });
  return adapter;
}

function isRequest(value: unknown): value is HttpRequestLike {
  const headers = (value as { headers?: unknown } | null | undefined)?.headers;
  return typeof headers === 'object' && headers !== null;
}
