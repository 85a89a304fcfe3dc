import { Injectable, type NestMiddleware } from '@nestjs/common';
import { AuthKitException } from '../context/authkit.exception.js';

/** `application/json`, with or without parameters (`; charset=utf-8`): what WorkOS sends. */
export function isJsonContentType(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
}

export function unsupportedMediaType(): AuthKitException {
  return new AuthKitException({
    reason: 'UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    detail: 'WorkOS webhooks are sent as application/json',
  });
}

/**
 * Refuses a webhook request that is not JSON before any body parser sees it. As a middleware it
 * runs before Fastify's content-type parsing too, which would otherwise refuse unknown types
 * with its own 415 (no reason) or hand `text/plain` to the route without a raw body.
 * A 415 is an HttpException: nothing is logged, so anonymous junk cannot flood the logs.
 */
@Injectable()
export class WebhookContentTypeMiddleware implements NestMiddleware {
  use(
    req: { headers: Record<string, string | string[] | undefined> },
    _res: unknown,
    next: (error?: unknown) => void,
  ): void {
    if (!isJsonContentType(req.headers['content-type'])) throw unsupportedMediaType();
    next();
  }
}
