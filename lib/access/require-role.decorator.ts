import { applyDecorators, UseGuards } from '@nestjs/common';
import { AccessGuard } from './access.guard.js';
import { addAccessRequirement } from './access-requirement.metadata.js';
import { credentialRequirement, slugList } from './slugs.js';

/**
 * Lets a request through only when the session holds one of the roles: the token's `roles`
 * claim (every role of the membership), or its `role` when `roles` is absent. 403
 * `ROLE_REQUIRED` otherwise. Prefer `@RequirePermission`: roles are bundles of permissions,
 * and WorkOS lets you change what a role grants without a deploy.
 *
 * @example
 * ```ts
 * @RequireRole(['admin', 'owner'])
 * @Controller('billing')
 * export class BillingController {}
 * ```
 */
export function RequireRole(
  slugs: string | readonly string[],
  options: { credentials?: readonly ('cookie' | 'bearer' | 'api-key')[] } = {},
): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ...credentialRequirement('@RequireRole()', options.credentials).map(addAccessRequirement),
    addAccessRequirement({ kind: 'role', slugs: slugList('@RequireRole()', slugs) }),
    UseGuards(AccessGuard),
  );
}
