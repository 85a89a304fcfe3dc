import { HttpException } from '@nestjs/common';
import type { AuthKitReason } from './authkit-reason.js';

/** The statuses an AuthKit refusal can carry. */
export type AuthKitStatus = 400 | 401 | 403 | 404 | 415 | 500 | 503;

export interface AuthKitExceptionInit {
  reason: AuthKitReason;
  status: AuthKitStatus;
  /** Safe to show: never a token, code or cookie value. */
  detail: string;
  /** More fields for the answer's body (e.g. `flags` for `FLAG_DISABLED`). */
  extra?: Record<string, unknown>;
  /** HTTP headers that belong to the answer (`Retry-After`, `WWW-Authenticate`). */
  headers?: Record<string, string>;
  /** The whole body instead of the default one (e.g. a plain 404 that hides a feature). */
  body?: Record<string, unknown>;
}

const STATUS_TEXT: Record<AuthKitStatus, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Every refusal of the package: thrown by its guards and built-in routes, so your exception
 * filters can catch and reshape it. Over HTTP it answers `status` with the JSON body
 * `{ statusCode, error, reason, message, ...extra }`; guards render it in GraphQL, WebSocket and
 * rpc contexts in their own idiom (see `AuthKitGuard.throwException`).
 *
 * @example
 * ```ts
 * @Catch(AuthKitException)
 * export class AuthPageFilter implements ExceptionFilter {
 *   catch(error: AuthKitException, host: ArgumentsHost) {
 *     const res = host.switchToHttp().getResponse<Response>();
 *     if (error.statusCode === 401) return res.redirect(`/auth/login?returnTo=${encodeURIComponent(req.url)}`);
 *     res.status(error.statusCode).render('denied', { reason: error.reason });
 *   }
 * }
 * ```
 */
export class AuthKitException extends HttpException {
  readonly reason: AuthKitReason;
  /** Safe to show: never a token, code or cookie value. */
  readonly detail: string;
  readonly statusCode: AuthKitStatus;
  readonly headers: Readonly<Record<string, string>>;
  readonly extra: Readonly<Record<string, unknown>>;

  constructor({ reason, status, detail, extra = {}, headers = {}, body }: AuthKitExceptionInit) {
    super(
      body ?? { statusCode: status, error: STATUS_TEXT[status], reason, message: detail, ...extra },
      status,
    );
    this.name = 'AuthKitException';
    this.reason = reason;
    this.detail = detail;
    this.statusCode = status;
    this.headers = headers;
    this.extra = extra;
  }
}
