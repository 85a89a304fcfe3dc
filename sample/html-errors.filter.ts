import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { esc, page } from './html.js';

interface Failure {
  reason?: string;
  flags?: string[];
  mode?: string;
  missing?: string[];
  maxAge?: number;
  message?: string;
}

/**
 * Browsers get pages instead of JSON: 401 sends them to sign in (and back), 403 explains which
 * flag is missing. API callers (no `text/html` in Accept) keep the library's JSON answers.
 */
@Catch(HttpException)
export class HtmlErrorsFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: HttpException, host: ArgumentsHost): HttpException | void {
    // GraphQL and WebSocket errors keep their own shapes.
    if (host.getType() !== 'http') return exception;
    const adapter = this.adapterHost.httpAdapter;
    const http = host.switchToHttp();
    const req = http.getRequest<{ method: string; headers: Record<string, string | undefined> }>();
    const res = http.getResponse<object>();
    const status = exception.getStatus();
    const body = exception.getResponse();
    const wantsHtml = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    if (!wantsHtml) return adapter.reply(res, body, status);

    const failure: Failure = typeof body === 'object' ? (body as Failure) : { message: body };
    if (status === 401 && failure.reason !== 'REFRESH_UNAVAILABLE') {
      const returnTo = adapter.getRequestUrl(req);
      // A sign-in that is too old: WorkOS asks the user to authenticate again (max_age).
      const maxAge = failure.reason === 'RECENT_AUTH_REQUIRED' ? `&maxAge=${failure.maxAge}` : '';
      return adapter.redirect(
        res,
        302,
        `/auth/login?returnTo=${encodeURIComponent(returnTo)}${maxAge}`,
      );
    }
    adapter.setHeader(res, 'Content-Type', 'text/html; charset=utf-8');
    const detail =
      failure.reason === 'FLAG_DISABLED'
        ? `This page needs ${esc((failure.flags ?? []).join(failure.mode === 'any' ? ' or ' : ' and '))}, which your token does not carry for this organization.`
        : failure.reason === 'PERMISSION_DENIED'
          ? `This page needs the permission ${esc((failure.missing ?? []).join(', '))} in this organization.`
          : esc(failure.message ?? failure.reason ?? 'Something went wrong.');
    adapter.reply(
      res,
      page(
        `${status}`,
        `<h1 data-testid="error-status">${status} ${esc(failure.reason ?? '')}</h1><p data-testid="error-detail">${detail}</p><p><a href="/">Back home</a></p>`,
      ),
      status,
    );
  }
}
