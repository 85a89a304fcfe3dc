import type { IncomingMessage, ServerResponse } from 'node:http';
import { refuseCrossSitePost } from './admin-pages.routes.js';
import { hasApiKey, json, parseJsonObject, readBody } from './http.js';
import { faultOf, matchRoute, type BoundRoute } from './route-table.js';

/*
 * How every request goes through the emulator: read the body (size-limited), count it and apply
 * its endpoint's fault, refuse cross-site admin posts, then match the route table and check the
 * API key where the route needs it. Anything unmatched is a JSON 404.
 */

/**
 * The emulator's side of the router: its bound route table, API key and call metering.
 *
 * @example
 * createServer(routeRequests({ routes, apiKey, meter: (route, body, res) => meter(route, body, res) }));
 */
export interface RouterOptions<F extends string> {
  routes: readonly BoundRoute<F>[];
  apiKey: string;
  /** Counts a request on a faultable endpoint and applies its fault; true when the fault answered. */
  meter(route: F, body: Record<string, unknown>, res: ServerResponse): Promise<boolean>;
}

/**
 * The server's request listener; an error escaping a handler becomes a JSON 500.
 *
 * @example
 * const server = createServer(routeRequests(options));
 */
export function routeRequests<F extends string>(
  options: RouterOptions<F>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(req, res, options).catch(() => {
      if (!res.headersSent) json(res, 500, { message: 'emulator error' });
    });
  };
}

/** Only the path and query are read, so any base parses a request target the same way. */
const BASE = 'http://127.0.0.1';

async function handle<F extends string>(
  req: IncomingMessage,
  res: ServerResponse,
  { routes, apiKey, meter }: RouterOptions<F>,
): Promise<void> {
  const url = new URL(req.url ?? '/', BASE);
  const path = url.pathname;
  const method = req.method ?? 'GET';
  let body: Record<string, unknown> = {};
  let form = new URLSearchParams();
  if (method === 'POST' || method === 'PUT') {
    const raw = await readBody(req);
    if (raw === undefined) return json(res, 413, { message: 'Payload too large' });
    if ((req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      form = new URLSearchParams(raw);
      // The token endpoint takes a form as well as JSON, as an OAuth token endpoint does.
      body = Object.fromEntries(form);
    } else {
      const parsed = parseJsonObject(raw);
      if (!parsed) return json(res, 400, { message: 'Invalid JSON' });
      body = parsed;
    }
  }
  const fault = faultOf(routes, path);
  if (fault !== undefined && (await meter(fault, body, res))) return;
  if (refuseCrossSitePost(req, method, path, res)) return;

  const match = matchRoute(routes, method, path);
  if (match === 'malformed') return json(res, 400, { message: 'Malformed path' });
  if (!match) return json(res, 404, { message: 'Not found' });
  if (match.route.apiKey && !hasApiKey(req, apiKey)) {
    return json(res, 401, { message: 'Unauthorized' });
  }
  await match.route.handler({ req, res, url, body, form, params: match.params });
}
