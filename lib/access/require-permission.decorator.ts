import { applyDecorators, UseGuards } from '@nestjs/common';
import { AccessGuard } from './access.guard.js';
import { addAccessRequirement } from './access-requirement.metadata.js';
import type { RequireClaimsOptions } from './require-claims.options.js';
import { credentialRequirement, modeOf, slugList } from './slugs.js';

/**
 * Lets a request through only when the token's `permissions` claim holds the permission(s):
 * all of them by default, one with `{ mode: 'any' }`. 401 without a session, 403
 * `PERMISSION_DENIED` (with `missing`) otherwise. On a controller and a method both must hold;
 * composes with every other `@Require…` decorator and `@RequireFlag`.
 *
 * @example
 * ```ts
 * @Delete(':id')
 * @RequirePermission('reports:delete')
 * remove() {}
 *
 * @RequirePermission(['reports:read', 'reports:export'], { mode: 'any' })
 * @RequirePermission('billing:manage', { credentials: ['cookie'] }) // browsers only
 * ```
 */
export function RequirePermission(
  slugs: string | readonly string[],
  options: RequireClaimsOptions = {},
): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ...credentialRequirement('@RequirePermission()', options.credentials).map(addAccessRequirement),
    addAccessRequirement({
      kind: 'permission',
      slugs: slugList('@RequirePermission()', slugs),
      mode: modeOf('@RequirePermission()', options.mode, 'all'),
    }),
    UseGuards(AccessGuard),
  );
}
