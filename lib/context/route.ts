import type { ExecutionContext } from '@nestjs/common';
import type { AuthKitTransport } from './carrier.js';

/** Where a decision was taken, for audit records: never a query string or a payload. */
export interface RouteDescription {
  /** `Controller.handler` (or `Resolver.method`, `Gateway.method`). */
  route: string;
  /** HTTP path without its query, `Type.field` in GraphQL, the message pattern on sockets. */
  path: string;
  /** The HTTP method, over HTTP. */
  method?: string;
}

export function routeOf(context: ExecutionContext): RouteDescription {
  const route = `${context.getClass().name}.${context.getHandler().name}`;
  switch (context.getType<AuthKitTransport>()) {
    case 'http': {
      const req = context.switchToHttp().getRequest<{ url?: string; method?: string }>();
      return { route, path: (req.url ?? '').split('?')[0] ?? '', method: req.method };
    }
    case 'graphql': {
      const info = context.getArgByIndex<
        { parentType?: { name?: string }; fieldName?: string } | undefined
      >(3);
      return {
        route,
        path: info ? `${info.parentType?.name ?? '?'}.${info.fieldName ?? '?'}` : route,
      };
    }
    case 'ws': {
      const pattern = context.switchToWs().getPattern();
      return { route, path: typeof pattern === 'string' ? pattern : route };
    }
    default:
      return { route, path: route };
  }
}
