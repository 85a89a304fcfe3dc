import { Controller, Get, UseGuards } from '@nestjs/common';
import {
  AuthKitGuard,
  CurrentSession,
  FlagService,
  RequireFlag,
  type AuthKitSession,
} from 'nestjs-authkit';

/** A JSON API for Bearer callers (cookies work too). */
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
}
