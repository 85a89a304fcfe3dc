import { json } from './http.js';
import type { Route } from './route-table.js';

/** What the organization route needs: an organization by id, in WorkOS's wire shape. */
export interface OrganizationsContext {
  organizationData(id: string): object | undefined;
}

/**
 * `GET /organizations/:id` (the SDK's `organizations.getOrganization`), with the API key.
 *
 * @example
 * bindRoutes(organizationsRoutes, { organizationData: (id) => lookUp(id) });
 */
export const organizationsRoutes: readonly Route<OrganizationsContext>[] = [
  {
    method: 'GET',
    path: /^\/organizations\/(?<id>[^/]+)$/,
    apiKey: true,
    handler: ({ res, params }, { organizationData }) => {
      const org = organizationData(params.id!);
      return org ? json(res, 200, org) : json(res, 404, { message: 'Not found' });
    },
  },
];
