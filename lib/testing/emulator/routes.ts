import { adminPagesRoutes, type AdminPagesContext } from './admin-pages.routes.js';
import { apiKeysRoutes, type ApiKeysContext } from './api-keys.routes.js';
import { featureFlagsRoutes, type FeatureFlagsContext } from './feature-flags.routes.js';
import { hostedLoginRoutes, type HostedLoginContext } from './hosted-login.routes.js';
import { jwksRoutes, type JwksContext } from './jwks.routes.js';
import { organizationsRoutes, type OrganizationsContext } from './organizations.routes.js';
import { bindRoutes } from './route-table.js';
import { userManagementRoutes, type UserManagementContext } from './user-management.routes.js';

/*
 * The emulator's route table: every WorkOS area's routes, in matching order. No two routes share
 * a method and path, so the order only documents; each area gets only its own context.
 */

/**
 * Every area's routes, by area (what the table is made of).
 *
 * @example
 * Object.values(ROUTE_AREAS).flat().map((r) => `${r.method} ${String(r.path)}`);
 */
export const ROUTE_AREAS = {
  jwks: jwksRoutes,
  userManagement: userManagementRoutes,
  hostedLogin: hostedLoginRoutes,
  organizations: organizationsRoutes,
  featureFlags: featureFlagsRoutes,
  apiKeys: apiKeysRoutes,
  adminPages: adminPagesRoutes,
} as const;

/** The context each area's handlers get from the emulator. */
export interface RouteContexts {
  jwks: JwksContext;
  userManagement: UserManagementContext;
  hostedLogin: HostedLoginContext;
  organizations: OrganizationsContext;
  featureFlags: FeatureFlagsContext;
  apiKeys: ApiKeysContext;
  adminPages: AdminPagesContext;
}

/**
 * The route table, each area bound to its context.
 *
 * @example
 * createServer(routeRequests({ routes: routeTable(contexts), apiKey, meter }));
 */
export function routeTable(contexts: RouteContexts) {
  return [
    ...bindRoutes(ROUTE_AREAS.jwks, contexts.jwks),
    ...bindRoutes(ROUTE_AREAS.userManagement, contexts.userManagement),
    ...bindRoutes(ROUTE_AREAS.hostedLogin, contexts.hostedLogin),
    ...bindRoutes(ROUTE_AREAS.organizations, contexts.organizations),
    ...bindRoutes(ROUTE_AREAS.featureFlags, contexts.featureFlags),
    ...bindRoutes(ROUTE_AREAS.apiKeys, contexts.apiKeys),
    ...bindRoutes(ROUTE_AREAS.adminPages, contexts.adminPages),
  ];
}
