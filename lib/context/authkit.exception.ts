import { HttpException } from '@nestjs/common';
import type { AuthKitReason } from './authkit-reason.js';

/**
 * The statuses an AuthKit refusal can carry.
 *
 * @example
 * ```ts
 * const retryable = (status: AuthKitStatus) => status === 503;
 * ```
 */
export type AuthKitStatus = 400 | 401 | 403 | 404 | 415 | 500 | 503;

/**
 * What an AuthKitException is made of: throw your own refusals in the package's shape, so
 * clients handle them like its own.
 *
 * @example
 * ```ts
 * throw new AuthKitException({
 *   reason: 'PERMISSION_DENIED',
 *   status: 403,
 *   detail: 'only the project owner can delete it',
 *   extra: { missing: ['projects:delete'] },
 * });
 * ```
 */
export interface AuthKitExceptionInit {
  /** The stable string clients switch on. */
  reason: AuthKitReason;
  /** The HTTP status (a GraphQL error carries it in `extensions.status`). */
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
 *     const http = host.switchToHttp();
 *     const req = http.getRequest<Request>();
 *     const res = http.getResponse<Response>();
 *     if (error.statusCode === 401) return res.redirect(`/auth/login?returnTo=${encodeURIComponent(req.url)}`);
 *     res.status(error.statusCode).render('denied', { reason: error.reason });
 *   }
 * }
 * ```
 */
export class AuthKitException extends HttpException {
  /** Why: a stable string clients may switch on. */
  readonly reason: AuthKitReason;
  /** Safe to show: never a token, code or cookie value. */
  readonly detail: string;
  /** The HTTP status of the answer (also `getStatus()`). */
  readonly statusCode: AuthKitStatus;
  /** Headers the guards set on the reply before throwing (`Retry-After`, `WWW-Authenticate`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The body's extra fields (e.g. `flags` for `FLAG_DISABLED`, `missing` for `PERMISSION_DENIED`). */
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
