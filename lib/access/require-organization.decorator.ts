import { applyDecorators, UseGuards, type ExecutionContext } from '@nestjs/common';
import { AccessGuard } from './access.guard.js';
import { addAccessRequirement } from './access-requirement.metadata.js';
import { credentialRequirement } from './slugs.js';

/**
 * Which tenant a `@RequireOrganization` route belongs to, and which credentials it takes.
 * `param` and `tenant` are exclusive; with neither, any organization-scoped session passes.
 *
 * @example
 * ```ts
 * const byRoute: RequireOrganizationOptions = { param: 'orgId', credentials: ['cookie'] };
 * @RequireOrganization(byRoute)
 * ```
 */
export interface RequireOrganizationOptions {
  /**
   * The request's tenant: the route parameter (HTTP), field argument (GraphQL) or message field
   * (WebSockets) of this name must equal the token's `org_id`.
   */
  param?: string;
  /** Or read it yourself (a header, a body field, a lookup result already on the request). */
  tenant?: (context: ExecutionContext) => unknown;
  /**
   * The credentials this route takes (`AuthKitSession.source`): e.g. `['cookie']` keeps API
   * keys and Bearer tokens out of a browser-only route. 403 `CREDENTIAL_NOT_ALLOWED` otherwise.
   */
  credentials?: readonly ('cookie' | 'bearer' | 'api-key')[];
}

/**
 * Requires an organization-scoped session (403 `ORGANIZATION_REQUIRED` without one) and, with
 * `param` or `tenant`, that the organization the request names is the token's own: a token of
 * one tenant is never accepted for another's data (403 `ORGANIZATION_MISMATCH`). A request that
 * names no tenant is refused too.
 *
 * @example
 * ```ts
 * @Get('orgs/:orgId/invoices')
 * @RequireOrganization({ param: 'orgId' })
 * invoices(@Param('orgId') orgId: string) {}
 *
 * @RequireOrganization({ tenant: (ctx) => ctx.switchToHttp().getRequest().headers['x-tenant'] })
 * ```
 */
export function RequireOrganization(
  options: RequireOrganizationOptions = {},
): ClassDecorator & MethodDecorator {
  const { param, tenant } = options;
  if (param !== undefined && (typeof param !== 'string' || param.length === 0)) {
    throw new Error('@RequireOrganization() param must be a non-empty argument name.');
  }
  if (tenant !== undefined && typeof tenant !== 'function') {
    throw new Error(
      '@RequireOrganization() tenant must be a function (context) => organization id.',
    );
  }
  if (param !== undefined && tenant !== undefined) {
    throw new Error('@RequireOrganization() takes param or tenant, not both.');
  }
  return applyDecorators(
    ...credentialRequirement('@RequireOrganization()', options.credentials).map(
      addAccessRequirement,
    ),
    addAccessRequirement({
      kind: 'organization',
      ...(param !== undefined ? { param } : {}),
      ...(tenant !== undefined ? { tenantOf: tenant } : {}),
    }),
    UseGuards(AccessGuard),
  );
}
