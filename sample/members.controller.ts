import { Controller, Get, Header, Inject, Optional, Param } from '@nestjs/common';
import type { WorkOS } from '@workos-inc/node';
import {
  CurrentSession,
  RequireOrganization,
  RequirePermission,
  WORKOS_CLIENT,
  type AuthKitSession,
} from 'nestjs-authkit';
import { DEMO, type Demo } from './demo.js';
import { esc, page } from './html.js';

/**
 * "Who may do what": a members page only organization admins with `members:manage` open, and
 * a tenant-scoped JSON route that refuses a token of another organization.
 */
@Controller()
export class MembersController {
  constructor(
    @Inject(WORKOS_CLIENT) private readonly workos: WorkOS,
    @Optional() @Inject(DEMO) private readonly demo?: Demo,
  ) {}

  @Get('members')
  @RequireOrganization()
  @RequirePermission('members:manage')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async members(@CurrentSession() session: AuthKitSession): Promise<string> {
    const list = await this.workos.userManagement
      .listOrganizationMemberships({ organizationId: session.organizationId! })
      .then((page) => page.data)
      .catch(() => undefined);
    const rows = (list ?? [])
      .map(
        (m) =>
          `<tr data-testid="member-${esc(m.userId)}"><td>${esc(m.userId)}</td><td>${esc(m.role?.slug ?? '')}</td><td>${esc(m.status)}</td></tr>`,
      )
      .join('\n');
    const admin = this.demo
      ? `<p>Change a role or revoke a session on the <a href="${esc(this.demo.emulator.url)}/_emulator/members">emulator's members page</a>: your next request here sees it.</p>`
      : '';
    return page(
      'Members',
      `<h1 data-testid="members-title">Members of ${esc(session.organizationId!)}</h1>
<p>You are in because your token's <code>permissions</code> hold <code>members:manage</code> in this organization.</p>
${list === undefined ? '<p class="muted">Could not list members right now.</p>' : `<table><tr><th>User</th><th>Role</th><th>Status</th></tr>${rows}</table>`}
${admin}
<p><a href="/">Back</a></p>`,
    );
  }

  /** Tenant-scoped: `orgId` must be the token's own organization. */
  @Get('api/orgs/:orgId/reports')
  @RequireOrganization({ param: 'orgId' })
  @RequirePermission('reports:read')
  reports(@Param('orgId') orgId: string) {
    return { organizationId: orgId, reports: [{ id: 1, title: 'Q3 revenue' }] };
  }
}
