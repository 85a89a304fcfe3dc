import { Body, Controller, Get, Post, Query, Req, Res, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AuthKitReason } from '../context/authkit-reason.js';
import { AuthKitException, type AuthKitStatus } from '../context/authkit.exception.js';
import { header, type HttpRequestLike } from '../context/carrier.js';
import { Public } from '../session/public.decorator.js';
import { SKIP_SESSION } from '../session/skip-session.decorator.js';
import { AuthService, type StateChangeOutcome } from './auth.service.js';

type Params = Record<string, unknown>;

/**
 * Builds the auth routes under `prefix`: GET login / signup / callback, POST logout /
 * switch-organization. A factory, because a controller's path is fixed when it is declared.
 */
export function createAuthController(prefix: string): Type<unknown> {
  @Controller(prefix)
  @Public()
  @SKIP_SESSION(true)
  class AuthController {
    constructor(
      private readonly auth: AuthService,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    @Get('login')
    login(@Res() res: object, @Query() query: Params): void {
      this.redirect(res, 302, this.auth.signInUrl(res, query, 'sign-in'));
    }

    @Get('signup')
    signup(@Res() res: object, @Query() query: Params): void {
      this.redirect(res, 302, this.auth.signInUrl(res, query, 'sign-up'));
    }

    @Get('callback')
    async callback(
      @Req() req: HttpRequestLike,
      @Res() res: object,
      @Query() query: Params,
    ): Promise<void> {
      const outcome = await this.auth.callback(req, res, query);
      if (outcome.ok) return this.redirect(res, 302, outcome.redirectTo);
      if (outcome.redirectTo) return this.redirect(res, 302, outcome.redirectTo);
      const { status, reason, detail } = outcome.event;
      this.refuse(res, status, reason, detail);
    }

    @Post('logout')
    async logout(
      @Req() req: HttpRequestLike,
      @Res() res: object,
      @Body() body: Params | undefined,
    ): Promise<void> {
      this.answer(req, res, await this.auth.signOut(req, res, body ?? {}));
    }

    @Post('switch-organization')
    async switchOrganization(
      @Req() req: HttpRequestLike,
      @Res() res: object,
      @Body() body: Params | undefined,
    ): Promise<void> {
      this.answer(req, res, await this.auth.switchOrganization(req, res, body ?? {}));
    }

    /** A form post gets a 303 redirect; a fetch that asks for JSON gets JSON. */
    private answer(req: HttpRequestLike, res: object, outcome: StateChangeOutcome): void {
      if (!outcome.ok) {
        const { status, reason, detail } = outcome;
        return this.refuse(res, status, reason, detail);
      }
      if (wantsJson(req)) return this.reply(res, 200, outcome.body);
      this.redirect(res, 303, outcome.redirectTo);
    }

    private redirect(res: object, status: number, url: string): void {
      const adapter = this.adapterHost.httpAdapter;
      adapter.setHeader(res, 'Cache-Control', 'no-store');
      adapter.redirect(res, status, url);
    }

    /**
     * Throws the AuthKitException, so your exception filters see sign-in refusals too; the
     * headers a refusal needs are on the reply already.
     */
    private refuse(
      res: object,
      status: AuthKitStatus,
      reason: AuthKitReason,
      detail: string,
    ): never {
      const adapter = this.adapterHost.httpAdapter;
      adapter.setHeader(res, 'Cache-Control', 'no-store');
      if (status === 503) adapter.setHeader(res, 'Retry-After', '1');
      throw new AuthKitException({ reason, status, detail });
    }

    private reply(res: object, status: number, body: Record<string, unknown>): void {
      const adapter = this.adapterHost.httpAdapter;
      adapter.setHeader(res, 'Cache-Control', 'no-store');
      adapter.reply(res, body, status);
    }
  }
  return AuthController;
}

function wantsJson(req: HttpRequestLike): boolean {
  const accept = header(req, 'accept') ?? '';
  const type = header(req, 'content-type') ?? '';
  return (
    type.startsWith('application/json') ||
    (accept.includes('application/json') && !accept.includes('text/html'))
  );
}
