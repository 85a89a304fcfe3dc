import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SessionService } from 'nestjs-authkit';
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
 * Browsers get pages instead of JSON: 401 sends them to sign in (and back), a sign-in too old
 * for the page asks them to sign in again, 403 explains what is missing. API callers (no
 * `text/html` in Accept) keep the library's JSON answers.
 */
@Catch(HttpException)
export class HtmlErrorsFilter implements ExceptionFilter {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly sessions: SessionService,
  ) {}

  catch(exception: HttpException, host: ArgumentsHost): HttpException | void {
    // GraphQL and WebSocket errors keep their own shapes.
    if (host.getType() !== 'http') return exception;
    const adapter = this.adapterHost.httpAdapter;
    const http = host.switchToHttp();
    const req = http.getRequest<{ method: string; headers: Record<string, string | undefined> }>();
    const res = http.getResponse<object>();
    const status = exception.getStatus();
    const body = exception.getResponse();
    const failure: Failure = typeof body === 'object' ? (body as Failure) : { message: body };
    const acceptsHtml = (req.headers.accept ?? '').includes('text/html');
    if (acceptsHtml && failure.reason === 'RECENT_AUTH_REQUIRED') {
      // Explained, not redirected: the user is signed in and may wonder why a login page shows
      // up. Any method: the sample's sensitive forms post to their own page, the way back.
      adapter.setHeader(res, 'Content-Type', 'text/html; charset=utf-8');
      const again = {
        maxAge: failure.maxAge ?? 0,
        returnTo: adapter.getRequestUrl(req),
        // The same organization again, not the user's default one.
        organizationId: this.sessions.current()?.organizationId,
      };
      return adapter.reply(res, recentAuthPage(again), 401);
    }
    if (!(acceptsHtml && req.method === 'GET')) return adapter.reply(res, body, status);

    if (status === 401 && failure.reason !== 'REFRESH_UNAVAILABLE') {
      const returnTo = adapter.getRequestUrl(req);
      return adapter.redirect(res, 302, `/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
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

/**
 * `RECENT_AUTH_REQUIRED`: a link through the sign-in route with `maxAge`, which WorkOS turns
 * into a new authentication (a fresh `auth_time`), then back to the page.
 */
function recentAuthPage(again: {
  maxAge: number;
  returnTo: string;
  organizationId?: string;
}): string {
  const { maxAge, returnTo, organizationId } = again;
  const query = new URLSearchParams({ maxAge: String(maxAge), returnTo });
  if (organizationId) query.set('organizationId', organizationId);
  const href = `/auth/login?${query}`;
  const window = maxAge >= 60 && maxAge % 60 === 0 ? `${maxAge / 60} minutes` : `${maxAge} seconds`;
  return page(
    'Sign in again',
    `<h1 data-testid="error-status">401 RECENT_AUTH_REQUIRED</h1>
<p data-testid="error-detail">This page needs a sign-in within the last ${esc(window)}. Sign in again to continue; you come back here afterwards.</p>
<p><a href="${esc(href)}" data-testid="reauthenticate">Sign in again</a> · <a href="/">Back home</a></p>`,
  );
}
