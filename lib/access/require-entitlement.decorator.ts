import { applyDecorators, UseGuards } from '@nestjs/common';
import { AccessGuard } from './access.guard.js';
import { addAccessRequirement } from './access-requirement.metadata.js';
import type { RequireClaimsOptions } from './require-claims.options.js';
import { credentialRequirement, modeOf, slugList } from './slugs.js';

/**
 * Lets a request through only when the token's `entitlements` claim (the organization's plan,
 * e.g. Stripe lookup keys) holds the entitlement(s): all by default, one with
 * `{ mode: 'any' }`. 403 `ENTITLEMENT_REQUIRED` otherwise.
 *
 * @example
 * ```ts
 * @Post('sso')
 * @RequireEntitlement('enterprise')
 * configureSso() {}
 * ```
 */
export function RequireEntitlement(
  slugs: string | readonly string[],
  options: RequireClaimsOptions = {},
): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ...credentialRequirement('@RequireEntitlement()', options.credentials).map(
      addAccessRequirement,
    ),
    addAccessRequirement({
      kind: 'entitlement',
      slugs: slugList('@RequireEntitlement()', slugs),
      mode: modeOf('@RequireEntitlement()', options.mode, 'all'),
    }),
    UseGuards(AccessGuard),
  );
}
