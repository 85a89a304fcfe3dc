import {
  effectivePermissions,
  membershipRoles,
  type EmulatorMembership,
  type EmulatorRole,
} from './access-model.js';
import type { EmulatorSessionInfo } from './sessions.js';
import { isFlagOn, type EmulatorFlag } from './flag-model.js';

/*
 * The emulator's browser pages: the hosted login (pick a user and an organization), the flags
 * admin page (toggle, org rule None / Some / All, users and organizations targeted on or off)
 * and the members page (change a member's role, revoke a session). Plain HTML forms, no
 * scripts; every interpolated value is escaped.
 */

export interface PageUser {
  id: string;
  email: string;
  firstName?: string;
  lastName?: string;
}
export interface PageOrganization {
  id: string;
  name: string;
}
export type PageMembership = EmulatorMembership;
export interface PageWorld {
  users: PageUser[];
  organizations: PageOrganization[];
  memberships: PageMembership[];
  /** Environment roles (their permissions count in the members page's effective column). */
  roles?: EmulatorRole[];
}

/** Only active memberships can be signed into. */
function active(world: PageWorld): PageMembership[] {
  return world.memberships.filter((m) => (m.status ?? 'active') === 'active');
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function frame(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · WorkOS emulator</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; }
.card { border: 1px solid #ddd; border-radius: 8px; padding: 1rem 1.2rem; }
button { font: inherit; margin: .2rem 0; padding: .35rem .8rem; cursor: pointer; }
table { border-collapse: collapse; } td, th { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
.on { color: #137333; font-weight: 600; } .off { color: #a50e0e; } .muted { color: #6e6e73; }
</style></head>
<body><p class="muted">WorkOS emulator (a loopback test tool, not WorkOS)</p>
${body}
</body></html>`;
}

export function errorPage(message: string, heading = 'Cannot sign in'): string {
  return frame(
    'Error',
    `<h1>${escapeHtml(heading)}</h1><p data-testid="emulator-error">${escapeHtml(message)}</p>`,
  );
}

/** The authorize query minus what each button sets itself, so no field is sent twice. */
const BUTTON_FIELDS = new Set(['user_id', 'organization_id']);

/** The hosted login: one button per (user, organization) membership, each its own form. */
export function loginPage(
  world: PageWorld,
  params: URLSearchParams,
  options: { signUp: boolean; organizationId?: string; loginHint?: string },
): string {
  const orgName = new Map(world.organizations.map((o) => [o.id, o.name]));
  const hidden = [...params]
    .filter(([k]) => !BUTTON_FIELDS.has(k))
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
  const users = [...world.users].sort(
    (a, b) => Number(b.email === options.loginHint) - Number(a.email === options.loginHint),
  );
  const signable = active(world);
  const buttons: string[] = [];
  for (const user of users) {
    const memberships = signable.filter(
      (m) =>
        m.userId === user.id &&
        (options.organizationId === undefined || m.organizationId === options.organizationId),
    );
    // A user without any membership signs in without an organization, unless one was asked for.
    const orgless =
      options.organizationId === undefined && !signable.some((m) => m.userId === user.id);
    const choices: Array<string | undefined> = orgless
      ? [undefined]
      : memberships.map((m) => m.organizationId);
    for (const organizationId of choices) {
      const testId = organizationId ? `sign-in-${user.id}-${organizationId}` : `sign-in-${user.id}`;
      const label = organizationId
        ? `Continue as ${user.email} · ${orgName.get(organizationId) ?? organizationId}`
        : `Continue as ${user.email} (no organization)`;
      buttons.push(`<form method="post" action="/user_management/authorize/complete">${hidden}
<input type="hidden" name="user_id" value="${escapeHtml(user.id)}">
<input type="hidden" name="organization_id" value="${escapeHtml(organizationId ?? '')}">
<button type="submit" data-testid="${escapeHtml(testId)}">${escapeHtml(label)}</button></form>`);
    }
  }
  const title = options.signUp ? 'Create an account' : 'Sign in';
  return frame(
    title,
    `<div class="card"><h1>${escapeHtml(title)}</h1>
<p class="muted">Pick who you are and in which organization; no password in the emulator.</p>
${buttons.join('\n') || '<p>No user can sign in here.</p>'}
</div>`,
  );
}

export function indexPage(world: PageWorld): string {
  const orgName = new Map(world.organizations.map((o) => [o.id, o.name]));
  const email = new Map(world.users.map((u) => [u.id, u.email]));
  const users = world.users
    .map((u) => `<li>${escapeHtml(u.email)} <code>${escapeHtml(u.id)}</code></li>`)
    .join('');
  const orgs = world.organizations
    .map((o) => `<li>${escapeHtml(o.name)} <code>${escapeHtml(o.id)}</code></li>`)
    .join('');
  const rows = world.memberships
    .map(
      (m) =>
        `<tr><td>${escapeHtml(email.get(m.userId) ?? m.userId)}</td><td>${escapeHtml(orgName.get(m.organizationId) ?? m.organizationId)}</td><td>${escapeHtml(membershipRoles(m).join(', '))}</td></tr>`,
    )
    .join('');
  return frame(
    'Emulator',
    `<h1>WorkOS emulator</h1><p><a href="/_emulator/flags" data-testid="flags-link">Feature flags</a> · <a href="/_emulator/members" data-testid="members-link">Members and sessions</a></p>
<h2>Users</h2><ul data-testid="users">${users}</ul>
<h2>Organizations</h2><ul data-testid="organizations">${orgs}</ul>
<h2>Memberships</h2><table data-testid="memberships"><tr><th>User</th><th>Organization</th><th>Role</th></tr>${rows}</table>`,
  );
}

/**
 * One table row per flag (switch, organization rule, targets on / off, Save), then what every
 * membership gets right now. A form cannot wrap a table row, so each row's inputs join their
 * form by `form=`.
 */
export function flagsPage(world: PageWorld, flags: EmulatorFlag[]): string {
  const rows = flags
    .map((flag, i) => {
      const slug = escapeHtml(flag.slug);
      const form = `flag-form-${i}`;
      const rule = (value: string, label: string) =>
        `<label><input type="radio" form="${form}" name="rule" value="${value}" data-testid="flag-${slug}-rule-${value}"${flag.orgRule === value ? ' checked' : ''}> ${label}</label>`;
      // One checkbox per target and value; the `…_off` boxes are targets serving false.
      const box = (name: string, kind: string, id: string, checked: boolean | undefined) =>
        `<input type="checkbox" form="${form}" name="${name}" value="${escapeHtml(id)}" data-testid="flag-${slug}-${kind}-${escapeHtml(id)}"${checked ? ' checked' : ''}>`;
      const orgs = world.organizations
        .map(
          (o) =>
            `<label>${box('org', 'org', o.id, flag.organizations?.includes(o.id))} ${escapeHtml(o.name)}</label>`,
        )
        .join(' ');
      const orgsOff = world.organizations
        .map(
          (o) =>
            `<label>${box('org_off', 'org-off', o.id, flag.organizationsOff?.includes(o.id))} ${escapeHtml(o.name)}</label>`,
        )
        .join(' ');
      const users = world.users
        .map(
          (u) =>
            `${escapeHtml(u.email)}: <label>${box('user', 'user', u.id, flag.users?.includes(u.id))} on</label> <label>${box('user_off', 'user-off', u.id, flag.usersOff?.includes(u.id))} off</label>`,
        )
        .join('<br>');
      return `<tr data-testid="flag-${slug}">
<td><code>${slug}</code></td><td class="muted">${escapeHtml(flag.description ?? '')}</td>
<td><label><input type="checkbox" form="${form}" name="enabled" value="on" data-testid="flag-${slug}-enabled"${flag.enabled ? ' checked' : ''}> Enabled</label></td>
<td>${rule('none', 'None')} ${rule('some', 'Some:')} ${orgs} ${rule('all', 'All')}<br><span class="muted">Off for:</span> ${orgsOff}</td>
<td>${users}</td>
<td><form id="${form}" method="post" action="/_emulator/flags/${escapeHtml(encodeURIComponent(flag.slug))}"><button type="submit" data-testid="flag-${slug}-save">Save</button></form></td>
</tr>`;
    })
    .join('\n');
  const orgName = new Map(world.organizations.map((o) => [o.id, o.name]));
  const email = new Map(world.users.map((u) => [u.id, u.email]));
  const header = flags.map((f) => `<th>${escapeHtml(f.slug)}</th>`).join('');
  const matrix = world.memberships
    .map((m) => {
      const cells = flags
        .map((f) => {
          const on = isFlagOn(f, m.userId, m.organizationId);
          return `<td class="${on ? 'on' : 'off'}" data-testid="eval-${escapeHtml(m.userId)}-${escapeHtml(m.organizationId)}-${escapeHtml(f.slug)}">${on ? 'on' : 'off'}</td>`;
        })
        .join('');
      return `<tr><td>${escapeHtml(email.get(m.userId) ?? m.userId)} · ${escapeHtml(orgName.get(m.organizationId) ?? m.organizationId)}</td>${cells}</tr>`;
    })
    .join('');
  return frame(
    'Feature flags',
    `<p><a href="/_emulator">Emulator</a></p><h1>Feature flags</h1>
<p class="muted">Tokens carry the flags evaluated when they were issued: a change here reaches a
session at its next refresh.</p>
<table data-testid="flags"><tr><th>Flag</th><th>Description</th><th>Environment</th><th>Organizations</th><th>Users</th><th></th></tr>
${rows}</table>
<h2>What each membership gets now</h2>
<table data-testid="evaluations"><tr><th>User · organization</th>${header}</tr>${matrix}</table>`,
  );
}

/**
 * Members and sessions: one row per membership (roles, effective permissions, status, a form
 * that sets one role), then one row per issued session with a Revoke button while it is active.
 * A change reaches a session's token at its next refresh; a revocation kills its refresh token.
 *
 * @example
 * html(res, 200, membersPage(world, emulator.sessions()));
 */
export function membersPage(world: PageWorld, sessions: EmulatorSessionInfo[]): string {
  const orgName = new Map(world.organizations.map((o) => [o.id, o.name]));
  const email = new Map(world.users.map((u) => [u.id, u.email]));
  const roles = new Map((world.roles ?? []).map((r) => [r.slug, r]));
  // The environment's roles, the usual two, and any a membership holds: what the select offers.
  const choices = [
    ...new Set([
      ...roles.keys(),
      'member',
      'admin',
      ...world.memberships.flatMap((m) => membershipRoles(m)),
    ]),
  ];
  const members = world.memberships
    .map((m) => {
      const id = `${escapeHtml(m.userId)}-${escapeHtml(m.organizationId)}`;
      const held = membershipRoles(m);
      const options = choices
        .map(
          (slug) =>
            `<option value="${escapeHtml(slug)}"${slug === held[0] ? ' selected' : ''}>${escapeHtml(slug)}</option>`,
        )
        .join('');
      return `<tr data-testid="member-${id}">
<td>${escapeHtml(email.get(m.userId) ?? m.userId)}</td><td>${escapeHtml(orgName.get(m.organizationId) ?? m.organizationId)}</td>
<td data-testid="member-${id}-roles">${escapeHtml(held.join(', '))}</td>
<td data-testid="member-${id}-permissions">${escapeHtml(effectivePermissions(m, roles).join(', '))}</td>
<td>${escapeHtml(m.status ?? 'active')}</td>
<td><form method="post" action="/_emulator/members/role">
<input type="hidden" name="user_id" value="${escapeHtml(m.userId)}">
<input type="hidden" name="organization_id" value="${escapeHtml(m.organizationId)}">
<select name="role" data-testid="member-${id}-role">${options}</select>
<button type="submit" data-testid="member-${id}-save">Set role</button></form></td>
</tr>`;
    })
    .join('\n');
  const rows = sessions
    .map((s) => {
      const sid = escapeHtml(s.id);
      const action =
        s.status === 'active'
          ? `<form method="post" action="/_emulator/sessions/revoke"><input type="hidden" name="session_id" value="${sid}"><button type="submit" data-testid="revoke-${sid}">Revoke</button></form>`
          : `<span class="muted">${escapeHtml(s.status)}</span>`;
      const org = s.organizationId ? (orgName.get(s.organizationId) ?? s.organizationId) : '';
      const by = s.impersonator ? ` (impersonated by ${s.impersonator.email})` : '';
      return `<tr data-testid="session-${sid}"><td><code>${sid}</code></td><td>${escapeHtml((email.get(s.userId) ?? s.userId) + by)}</td><td>${escapeHtml(org)}</td><td>${escapeHtml(s.createdAt)}</td><td>${action}</td></tr>`;
    })
    .join('\n');
  return frame(
    'Members',
    `<p><a href="/_emulator">Emulator</a></p><h1>Members</h1>
<p class="muted">Sessions see a role change at their next refresh. Revoking a session ends its
refresh token at once and sends <code>session.revoked</code>; its current access token lives
until it expires unless the app revokes on that event.</p>
<table data-testid="members"><tr><th>User</th><th>Organization</th><th>Roles</th><th>Permissions</th><th>Status</th><th>Role</th></tr>
${members}</table>
<h2>Sessions</h2>
<table data-testid="sessions"><tr><th>Session</th><th>User</th><th>Organization</th><th>Created</th><th></th></tr>
${rows || '<tr><td colspan="5" class="muted">No session issued yet.</td></tr>'}</table>`,
  );
}
