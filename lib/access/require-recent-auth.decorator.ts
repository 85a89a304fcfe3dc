import { applyDecorators, UseGuards } from '@nestjs/common';
import { AccessGuard } from './access.guard.js';
import { addAccessRequirement } from './access-requirement.metadata.js';

/**
 * Requires a sign-in within the last `maxAge` seconds, read from the token's `auth_time` claim
 * (set by WorkOS at sign-in, never moved by a refresh; a token without it is refused). 401
 * `RECENT_AUTH_REQUIRED` with `maxAge` in the body, and for Bearer callers
 * `WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age=…` (RFC 9470).
 * Pages are not redirected by the guard: your exception filter sends the browser through
 * `/auth/login?maxAge=…&returnTo=…` (the sign-in route passes `max_age` to WorkOS, which asks
 * the user to authenticate again); the sample's `HtmlErrorsFilter` shows how.
 *
 * @example
 * ```ts
 * @Post('api-keys')
 * @RequireRecentAuth({ maxAge: 300 }) // signed in within 5 minutes
 * createKey() {}
 * ```
 */
export function RequireRecentAuth(options: { maxAge: number }): ClassDecorator & MethodDecorator {
  const maxAge = options?.maxAge;
  if (!(typeof maxAge === 'number' && Number.isFinite(maxAge) && maxAge >= 0)) {
    throw new Error('@RequireRecentAuth() needs { maxAge } in seconds (0 or more).');
  }
  return applyDecorators(
    addAccessRequirement({ kind: 'recent-auth', maxAge }),
    UseGuards(AccessGuard),
  );
}
