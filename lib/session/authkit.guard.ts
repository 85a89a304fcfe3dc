import { Injectable, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { AuthKitGuardBase } from './authkit-guard.base.js';
import { IS_PUBLIC } from './public.decorator.js';
import { SessionResolver } from './session.resolver.js';

/**
 * Requires a signed-in session (refreshing an expired cookie first, over HTTP), in any context:
 * HTTP, GraphQL, WebSocket messages. `@Public()` opts out.
 *
 * @example
 * ```ts
 * @UseGuards(AuthKitGuard)
 * @Controller('projects')
 * export class ProjectsController {}
 *
 * // or on every route: AuthKitModule.forRoot({ ..., globalGuard: true })
 * ```
 */
@Injectable()
export class AuthKitGuard extends AuthKitGuardBase {
  constructor(
    private readonly reflector: Reflector,
    resolver: SessionResolver,
    adapterHost: HttpAdapterHost,
  ) {
    super(resolver, adapterHost);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride(IS_PUBLIC, [context.getHandler(), context.getClass()])) {
      return true;
    }
    await this.requireSession(context, this.begin(context));
    return true;
  }
}
