// The two routes the access bench compares, of one path shape: GET /orgs/:orgId/beta under
// @RequireFlag('beta') alone, and GET /orgs/:orgId/reports under @RequireFlag('beta') +
// @RequirePermission('reports:read') + @RequireOrganization({ param: 'orgId' }). Only their
// decorators differ, so the ratio of the two is the decisions' cost, not the router's (a route
// parameter costs Express and Fastify something of its own). Plain routes in the bare app.
import { Controller, Get, type Type } from '@nestjs/common';
import type { AuthKitLib } from './apps.js';
import { ORGANIZATION, PERMISSION } from './world.js';

/**
 * The flag-only route, for the bench session's organization.
 *
 * @example
 * ```ts
 * const row = { app, path: FLAG_ONLY_PATH, cookieFile };
 * ```
 */
export const FLAG_ONLY_PATH = `/orgs/${ORGANIZATION}/beta`;

/**
 * The three-decorator route for an organization (the bench session's by default).
 *
 * @example
 * ```ts
 * await fetch(app.url + accessPath('org_other'), { headers: { cookie } }); // 403: another tenant
 * ```
 */
export const accessPath = (organization = ORGANIZATION) => `/orgs/${organization}/reports`;

/**
 * The handlers, by name: the in-process rows call their guards directly.
 *
 * @example
 * ```ts
 * routeGuards(app, accessController(lib), 'reports' satisfies keyof AccessRoutes);
 * ```
 */
export interface AccessRoutes {
  flagOnly(): string;
  reports(): string;
}

type AccessLib = Required<AuthKitLib>;

/**
 * Whether a build has the access decorators: older builds (which the instructions bench loads)
 * have only `@RequireFlag`.
 *
 * @example
 * ```ts
 * const controllers = hasAccessDecorators(lib) ? [accessController(lib)] : [];
 * ```
 */
export function hasAccessDecorators(lib: AuthKitLib): lib is AccessLib {
  return (
    typeof lib.RequirePermission === 'function' && typeof lib.RequireOrganization === 'function'
  );
}

/**
 * The controller of both routes, decorated with `lib`'s decorators, or ungated without a lib.
 *
 * @example
 * ```ts
 * @Module({ imports: [AuthKitModule.forRoot(options)], controllers: [accessController(lib)] })
 * class AppModule {}
 * ```
 */
export function accessController(lib: AuthKitLib | undefined): Type<AccessRoutes> {
  if (lib && !hasAccessDecorators(lib)) {
    throw new Error(
      'accessController: this AuthKit build has no @RequirePermission / @RequireOrganization; ' +
        'leave the access routes out for it (hasAccessDecorators(lib))',
    );
  }
  const none: MethodDecorator = () => undefined;
  const flag: MethodDecorator = lib ? lib.RequireFlag('beta') : none;
  const permission: MethodDecorator = lib?.RequirePermission?.(PERMISSION) ?? none;
  const organization: MethodDecorator = lib?.RequireOrganization?.({ param: 'orgId' }) ?? none;

  @Controller('orgs/:orgId')
  class AccessController implements AccessRoutes {
    @Get('beta')
    @flag
    flagOnly() {
      return 'ok';
    }

    @Get('reports')
    @flag
    @permission
    @organization
    reports() {
      return 'ok';
    }
  }
  return AccessController;
}
