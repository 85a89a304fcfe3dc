import { Injectable, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { AuthKitGuardBase } from './authkit-guard.base.js';
import { OPTIONAL_SESSION } from './optional-session.decorator.js';
import { IS_PUBLIC } from './public.decorator.js';
import { SessionResolver } from './session.resolver.js';

/**
 * Requires a signed-in session (refreshing an expired cookie first, over HTTP), in any context:
 * HTTP, GraphQL, WebSocket messages. `@Public()` opts out; `@OptionalSession()` lets requests
 * without a credential through.
 *
 * @example
 * ```ts
 * @UseGuards(AuthKitGuard)
 * @Controller('projects')
 * export class ProjectsController {}
 *
 * // or on every route: AuthKitModule.forRoot({ ..., globalGuard: true })
 * ```
 * @hideconstructor
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
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride(IS_PUBLIC, targets)) return true;
    const entry = this.begin(context);
    const resolution = await this.withApiKey(context, entry, await entry.promise);
    // @OptionalSession: no credential goes through; one that does not hold is refused.
    const optional = this.reflector.getAllAndOverride(OPTIONAL_SESSION, targets) === true;
    if (optional && !resolution.ok && resolution.failure.reason === 'NO_SESSION') return true;
    this.sessionOf(context, resolution);
    return true;
  }
}
