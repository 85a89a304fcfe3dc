import { applyDecorators, UseGuards } from '@nestjs/common';
import type { AccessTokenClaims, AuthKitSession } from '../session/session.types.js';
import { AccessGuard } from './access.guard.js';
import { addAccessRequirement } from './access-requirement.metadata.js';

/**
 * Lets a request through only when `test` accepts a claim of the verified token: for your JWT
 * template's own claims (declare them on `AccessTokenClaims` to get them typed). 403
 * `CLAIM_REQUIRED` otherwise; a `test` that throws refuses.
 *
 * @example
 * ```ts
 * declare module 'nestjs-authkit' {
 *   interface AccessTokenClaims { 'urn:acme:plan'?: 'free' | 'pro' }
 * }
 *
 * @RequireClaim('urn:acme:plan', (plan) => plan === 'pro')
 * ```
 */
export function RequireClaim<K extends keyof AccessTokenClaims & string>(
  name: K,
  test: (value: AccessTokenClaims[K] | undefined, session: AuthKitSession) => boolean,
): ClassDecorator & MethodDecorator {
  if (typeof name !== 'string' || name.length === 0 || typeof test !== 'function') {
    throw new Error('@RequireClaim() needs a claim name and a test (value, session) => boolean.');
  }
  return applyDecorators(
    addAccessRequirement({
      kind: 'claim',
      name,
      test: test as (value: unknown, session: AuthKitSession) => boolean,
    }),
    UseGuards(AccessGuard),
  );
}
