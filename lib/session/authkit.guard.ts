import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { rejectRequest } from './auth-failure.js';
import type { HttpRequestLike } from './http.types.js';
import { IS_PUBLIC } from './public.decorator.js';
import { SessionResolver } from './session.resolver.js';

/**
 * Requires a signed-in session (refreshing an expired one first). Use it with
 * `@UseGuards(AuthKitGuard)`, or globally via `AuthKitModule.forRoot({ ... }, )` extras
 * `{ globalGuard: true }`; `@Public()` opts out.
 */
@Injectable()
export class AuthKitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly resolver: SessionResolver,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride(IS_PUBLIC, [context.getHandler(), context.getClass()])) {
      return true;
    }
    const http = context.switchToHttp();
    const req = http.getRequest<HttpRequestLike>();
    const res = http.getResponse<object>();
    const resolution = await this.resolver.resolve(req, res);
    if (!resolution.ok) rejectRequest(this.adapterHost, res, resolution.failure);
    return true;
  }
}
