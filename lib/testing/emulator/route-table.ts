import type { IncomingMessage, ServerResponse } from 'node:http';

/*
 * The shape of the emulator's route table and its one matcher. Each WorkOS area declares its
 * routes as data (`*.routes.ts`); the emulator binds each area to the narrow context it needs,
 * and the router matches requests against the bound list here, in table order.
 */

/** The methods a route answers; `*` answers any (as the JWKS and flag document always have). */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | '*';

/**
 * One request as a handler sees it: parsed once, before any route runs.
 *
 * @example
 * const handler = ({ res, params }: EmulatorRequest) => json(res, 200, { id: params.id });
 */
export interface EmulatorRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The request URL (its query is the GET routes' input). */
  readonly url: URL;
  /** A POST or PUT body: the JSON object, or a form's fields; `{}` otherwise. */
  readonly body: Record<string, unknown>;
  /** A form-encoded body as sent (repeated fields kept); empty otherwise. */
  readonly form: URLSearchParams;
  /** The pattern's named groups, percent-decoded; empty for a plain path. */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * One entry of an area's table: a handler for a method on a path (exact) or a pattern
 * (anchored; named groups become `params`). `C` is the context the area's handlers need.
 *
 * @example
 * const route: Route<{ name: string }> = {
 *   method: 'GET',
 *   path: /^\/hello\/(?<who>[^/]+)$/,
 *   handler: ({ res, params }, { name }) => json(res, 200, { from: name, to: params.who }),
 * };
 */
export interface Route<C, F extends string = never> {
  readonly method: RouteMethod;
  readonly path: string | RegExp;
  /** Answered 401 unless the request carries the emulator's API key (the SDK's management calls). */
  readonly apiKey?: boolean;
  /**
   * Counted and open to `fault()` under this name for every request on the path, whatever its
   * method: faults are per WorkOS endpoint, not per handler.
   */
  readonly fault?: F;
  readonly handler: (request: EmulatorRequest, context: C) => void | Promise<void>;
}

/** A route whose handler already holds its area's context. */
export type BoundRoute<F extends string = string> = Omit<Route<unknown, F>, 'handler'> & {
  readonly handler: (request: EmulatorRequest) => void | Promise<void>;
};

/**
 * Binds an area's routes to its context.
 *
 * @example
 * const routes = bindRoutes(jwksRoutes, { clientId, jwk: () => key });
 */
export function bindRoutes<C, F extends string>(
  routes: readonly Route<C, F>[],
  context: C,
): BoundRoute<F>[] {
  return routes.map((route) => ({
    ...route,
    handler: (request: EmulatorRequest) => route.handler(request, context),
  }));
}

/** What the matcher found: a route with its params, a malformed path, or nothing. */
export type RouteMatch<F extends string> =
  { route: BoundRoute<F>; params: Record<string, string> } | 'malformed' | undefined;

/**
 * The first route answering `method` on `path`, in table order. A pattern's params are decoded
 * as soon as its path matches: a malformed percent-encoding is a 400 whatever the method, not
 * a 500 from decodeURIComponent. A known path with another method finds nothing (a 404).
 *
 * @example
 * matchRoute(routes, 'GET', '/organizations/org_1'); // { route, params: { id: 'org_1' } }
 */
export function matchRoute<F extends string>(
  routes: readonly BoundRoute<F>[],
  method: string,
  path: string,
): RouteMatch<F> {
  for (const route of routes) {
    const params = pathParams(route.path, path);
    if (params === undefined) continue;
    if (params === null) return 'malformed';
    if (route.method === '*' || route.method === method) return { route, params };
  }
  return undefined;
}

/**
 * The fault name of the path's endpoint (the first route on it that has one), whatever the
 * request's method.
 *
 * @example
 * faultOf(routes, '/user_management/authenticate'); // 'authenticate'
 */
export function faultOf<F extends string>(
  routes: readonly BoundRoute<F>[],
  path: string,
): F | undefined {
  return routes.find((route) => route.fault !== undefined && pathMatches(route.path, path))?.fault;
}

function pathMatches(routePath: string | RegExp, path: string): boolean {
  return typeof routePath === 'string' ? routePath === path : routePath.test(path);
}

/** The decoded named groups: undefined when the path does not match, null when malformed. */
function pathParams(
  routePath: string | RegExp,
  path: string,
): Record<string, string> | undefined | null {
  if (typeof routePath === 'string') return routePath === path ? {} : undefined;
  const match = routePath.exec(path);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  try {
    for (const [name, value] of Object.entries(match.groups ?? {})) {
      params[name] = decodeURIComponent(value);
    }
  } catch {
    return null;
  }
  return params;
}
