import { Controller, Get, UseGuards } from '@nestjs/common';
import {
  AllowApiKeys,
  AuthKitGuard,
  CurrentSession,
  FlagService,
  RequireFlag,
  RequireOrganization,
  RequirePermission,
  type AuthKitSession,
} from 'nestjs-authkit';

/** A JSON API for Bearer callers (cookies work too), and one route for WorkOS API keys. */
@Controller('api')
export class ApiController {
  constructor(private readonly flags: FlagService) {}

  @Get('me')
  @UseGuards(AuthKitGuard)
  me(@CurrentSession() session: AuthKitSession) {
    return {
      userId: session.userId,
      organizationId: session.organizationId ?? null,
      role: session.role ?? null,
      featureFlags: this.flags.getAll(),
      source: session.source,
    };
  }

  @Get('reports')
  @RequireFlag('beta')
  reports(@CurrentSession('organizationId') organizationId: string | undefined) {
    return { organizationId: organizationId ?? null, reports: [{ id: 1, title: 'Q3 revenue' }] };
  }

  /**
   * For machines: an organization's WorkOS API key (`Authorization: Bearer sk_...`) with the
   * `usage:read` permission. A user's token is held to the same rule, so Alice gets 403
   * `PERMISSION_DENIED` here: her role does not grant `usage:read`.
   */
  @Get('usage')
  @AllowApiKeys()
  @RequireOrganization()
  @RequirePermission('usage:read')
  usage(@CurrentSession() session: AuthKitSession) {
    return {
      organizationId: session.organizationId,
      credential: session.source,
      usage: [{ month: '2026-11', apiCalls: 18_204 }],
    };
  }
}
