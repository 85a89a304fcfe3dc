/**
 * The little of a request this package reads: Express' and Fastify's request objects both
 * fit. Responses are only ever touched through Nest's HttpAdapter, so they stay `object`.
 */
export interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
  socket?: { encrypted?: boolean } | null;
}

export function header(req: HttpRequestLike, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
