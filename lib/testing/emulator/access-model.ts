/*
 * What decides a session's access claims in the emulator: memberships (roles, own permissions,
 * status), environment roles (their permissions) and per-organization entitlements; and the
 * wire shapes WorkOS gives memberships and roles in its API and events.
 */

/**
 * WorkOS's membership statuses; only an active membership can be signed into or refreshed into.
 *
 * @example
 * emulator.setMembership('user_a', 'org_1', { status: 'inactive' }); // refreshes into org_1 fail
 */
export type EmulatorMembershipStatus = 'active' | 'inactive' | 'pending';

/**
 * A user's membership of an organization. `roles` are all its roles (token `roles`); `role`
 * names the highest, defaulting to the first of `roles`, then to `member`. A token's
 * `permissions` are `permissions` ∪ the permissions of every role (see `EmulatorRole`).
 *
 * @example
 * const membership: EmulatorMembership = {
 *   userId: 'user_a',
 *   organizationId: 'org_1',
 *   roles: ['admin', 'billing'],
 *   permissions: ['reports:read'],
 * };
 */
export interface EmulatorMembership {
  /** The member. */
  userId: string;
  /** The organization. */
  organizationId: string;
  /** The highest role (token `role`); default: the first of `roles`, then `member`. */
  role?: string;
  /** All its role slugs (token `roles`). */
  roles?: string[];
  /** Permissions of this membership itself, beside its roles'. */
  permissions?: string[];
  /** Defaults to `active`. */
  status?: EmulatorMembershipStatus;
}

/**
 * An environment role: its slug and the permissions every membership holding it gets.
 *
 * @example
 * const roles: EmulatorRole[] = [{ slug: 'admin', permissions: ['users:manage'] }];
 */
export interface EmulatorRole {
  /** The role's slug, as memberships and tokens name it. */
  slug: string;
  /** The permissions every membership holding the role gets. */
  permissions: string[];
}

/** A stored membership with its timestamps (seeded ones date from the emulator's epoch). */
export type MembershipRecord = EmulatorMembership & { createdAt: string; updatedAt: string };

/** A stored environment role with its timestamps. */
export type RoleRecord = EmulatorRole & { createdAt: string; updatedAt: string };

/**
 * The membership's roles, highest first: `role` leads, then `roles` in order, without repeats;
 * `['member']` when neither is set.
 *
 * @example
 * membershipRoles({ userId: 'u', organizationId: 'o', roles: ['viewer', 'admin'], role: 'admin' });
 * // ['admin', 'viewer']
 */
export function membershipRoles(membership: EmulatorMembership): string[] {
  const roles = [...(membership.role ? [membership.role] : []), ...(membership.roles ?? [])];
  return roles.length > 0 ? [...new Set(roles)] : ['member'];
}

/**
 * The token's `permissions`: the membership's own, then each role's, without repeats.
 *
 * @example
 * effectivePermissions({ userId: 'u', organizationId: 'o', role: 'admin' }, roles); // ['users:manage']
 */
export function effectivePermissions(
  membership: EmulatorMembership,
  roles: ReadonlyMap<string, EmulatorRole>,
): string[] {
  const out = new Set(membership.permissions ?? []);
  for (const slug of membershipRoles(membership)) {
    for (const permission of roles.get(slug)?.permissions ?? []) out.add(permission);
  }
  return [...out];
}

/**
 * The id WorkOS would give the membership (stable, so list cursors and events agree).
 *
 * @example
 * membershipId({ userId: 'user_a', organizationId: 'org_1' }); // 'om_user_a_org_1'
 */
export function membershipId(membership: Pick<EmulatorMembership, 'userId' | 'organizationId'>) {
  return `om_${membership.userId}_${membership.organizationId}`;
}

/**
 * The membership as WorkOS's API and `organization_membership.*` events carry it.
 *
 * @example
 * workos.webhooks.constructEvent(...) // data: membershipData(record, 'Acme')
 */
export function membershipData(membership: MembershipRecord, organizationName: string) {
  const roles = membershipRoles(membership);
  return {
    object: 'organization_membership' as const,
    id: membershipId(membership),
    user_id: membership.userId,
    organization_id: membership.organizationId,
    organization_name: organizationName,
    status: membership.status ?? 'active',
    role: { slug: roles[0]! },
    roles: roles.map((slug) => ({ slug })),
    directory_managed: false,
    custom_attributes: {},
    created_at: membership.createdAt,
    updated_at: membership.updatedAt,
  };
}

/**
 * An environment role as `role.*` events carry it (no id or name: WorkOS sends none).
 *
 * @example
 * roleData({ slug: 'admin', permissions: [], createdAt, updatedAt }).resource_type_slug; // 'organization'
 */
export function roleData(role: RoleRecord) {
  return {
    object: 'role' as const,
    slug: role.slug,
    resource_type_slug: 'organization',
    permissions: [...role.permissions],
    created_at: role.createdAt,
    updated_at: role.updatedAt,
  };
}
