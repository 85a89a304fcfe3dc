import { Reflector } from '@nestjs/core';

export const OPTIONAL_SESSION = Reflector.createDecorator<boolean>({
  key: 'nestjs-authkit:optional-session',
});

/**
 * A route that works with and without a session, under a global guard (`globalGuard: true`)
 * or `@Require…` decorators: a request with no credential goes through unchecked
 * (`@CurrentSession()` is undefined), a valid one is checked as usual, and an invalid one
 * (forged, expired beyond refresh, revoked) is still refused. Unlike `@Public()`, which never
 * refuses, it never serves a broken credential as anonymous.
 *
 * @example
 * ```ts
 * @Get('pricing')
 * @OptionalSession()
 * pricing(@CurrentSession() session?: AuthKitSession) {
 *   return session ? this.pricesFor(session.organizationId) : this.publicPrices();
 * }
 * ```
 */
export const OptionalSession = (): ClassDecorator & MethodDecorator => OPTIONAL_SESSION(true);
