import type { IncomingMessage, ServerResponse } from 'node:http';

/*
 * The emulator's HTTP plumbing: reading a request body within a size limit, and writing JSON,
 * HTML and redirect answers. Every route answers through these, so headers stay uniform.
 */

/** Bodies past this size are refused (413), as a real API refuses oversized requests. */
export const MAX_BODY = 1024 * 1024;

/**
 * Answers `body` as JSON.
 *
 * @example
 * json(res, 404, { message: 'Not found' });
 */
export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Answers an HTML page; never cached, since the admin pages show live state.
 *
 * @example
 * html(res, 400, errorPage('unknown user'));
 */
export function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

/**
 * Answers a redirect without a body (302 to leave the emulator, 303 after a form post).
 *
 * @example
 * redirect(res, 303, '/_emulator/flags');
 */
export function redirect(res: ServerResponse, status: 302 | 303, location: string): void {
  res.writeHead(status, { Location: location }).end();
}

/**
 * The body as text, or undefined past MAX_BODY (read to its end, so the 413 can be sent).
 *
 * @example
 * const raw = await readBody(req);
 * if (raw === undefined) return json(res, 413, { message: 'Payload too large' });
 */
export function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });
}

/**
 * A JSON object body (an empty body reads as `{}`), or undefined when it is not one.
 *
 * @example
 * parseJsonObject('{"value":"sk_test_1"}'); // { value: 'sk_test_1' }
 * parseJsonObject('[1]'); // undefined
 */
export function parseJsonObject(raw: string): Record<string, unknown> | undefined {
  if (raw === '') return {};
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A browser's cross-site request: `Sec-Fetch-Site: cross-site`, or an `Origin` that is not the
 * host the request was sent to. Clients that send neither (tests, curl) are not browsers.
 *
 * @example
 * if (req.method === 'POST' && isCrossSite(req)) html(res, 403, errorPage('refused'));
 */
export function isCrossSite(req: IncomingMessage): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = req.headers.origin;
  return origin !== undefined && origin !== `http://${req.headers.host ?? ''}`;
}

/**
 * Whether the request carries the emulator's API key, as the SDK sends it.
 *
 * @example
 * hasApiKey(req, 'sk_test_emulator'); // Authorization: Bearer sk_test_emulator
 */
export function hasApiKey(req: IncomingMessage, apiKey: string): boolean {
  return req.headers.authorization === `Bearer ${apiKey}`;
}
