/*
 * Which sessions a WorkOS access event makes stale, read from the event as WorkOS sends it
 * (snake_case `data`). Shapes relied on (WorkOS events reference; @workos-inc/node 11
 * serializers):
 * - `organization_membership.created|updated|deleted`: `data.user_id`, `data.organization_id`
 *   (role changes, deactivation and reactivation arrive as `.updated`).
 * - `role.created|updated|deleted`: environment roles, `data.slug` and `data.permissions`; no
 *   user or organization named.
 * - `organization_role.created|updated|deleted`: as above plus `data.organization_id`.
 * - `permission.created|updated|deleted`: `data.slug`; no user or organization named.
 * Whatever is missing or unreadable affects every session.
 */
import type { FlagChangeScope } from './flag-change-log.js';

const MEMBERSHIP_EVENTS = new Set([
  'organization_membership.created',
  'organization_membership.updated',
  'organization_membership.deleted',
]);
const ENVIRONMENT_EVENTS = new Set([
  'role.created',
  'role.updated',
  'role.deleted',
  'permission.created',
  'permission.updated',
  'permission.deleted',
]);
const ORGANIZATION_ROLE_EVENTS = new Set([
  'organization_role.created',
  'organization_role.updated',
  'organization_role.deleted',
]);

/**
 * The sessions an access event can affect, or undefined when it is not one:
 * - a membership event: the sessions of its user, in any organization — a superset of "that
 *   user in that organization" (the change log keys users and organizations apart, and a
 *   user's other sessions lose at most one refresh);
 * - an environment role or permission event: every session (it names no one);
 * - an organization role event: the sessions in that organization.
 *
 * @example
 * ```ts
 * scopeOfAccessEvent('organization_membership.updated', { user_id: 'user_01', organization_id: 'org_01' });
 * // { users: ['user_01'] }
 * scopeOfAccessEvent('role.updated', { slug: 'admin' }); // 'all'
 * scopeOfAccessEvent('flag.updated', {}); // undefined: not an access event
 * ```
 */
export function scopeOfAccessEvent(event: string, data: unknown): FlagChangeScope | undefined {
  const fields = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  if (MEMBERSHIP_EVENTS.has(event)) {
    return isId(fields.user_id) ? { users: [fields.user_id] } : 'all';
  }
  if (ORGANIZATION_ROLE_EVENTS.has(event)) {
    return isId(fields.organization_id) ? { organizations: [fields.organization_id] } : 'all';
  }
  if (ENVIRONMENT_EVENTS.has(event)) return 'all';
  return undefined;
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 256;
}
