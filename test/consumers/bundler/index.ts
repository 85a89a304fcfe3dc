// Decorators from the package on a controller, as an app does.
import { Controller, Get } from '@nestjs/common';
import {
  CurrentUser,
  RequireFlag,
  RequirePermission,
  type AccessTokenClaims,
} from 'nestjs-authkit';
import type { AuthKitFlagProviderOptions } from 'nestjs-authkit/openfeature';
import type { AuthKitHealthIndicator, AuthKitHealthOptions } from 'nestjs-authkit/terminus';
import type { RedisStoreOptions } from 'nestjs-authkit/redis';
import type { EmulatorRole } from 'nestjs-authkit/testing';

@Controller('reports')
export class ReportsController {
  @Get()
  @RequireFlag('beta', { fresh: true })
  @RequirePermission('reports:read')
  list(@CurrentUser() user: { id: string }): string {
    return user.id;
  }
}
export type Claims = AccessTokenClaims;
export const admin: EmulatorRole = { slug: 'admin', permissions: ['reports:read'] };
export const store: RedisStoreOptions = { commandTimeoutMs: 500 };
export const provider: AuthKitFlagProviderOptions = {};
export const healthOptions: AuthKitHealthOptions = { store: { required: true } };
export type Health = AuthKitHealthIndicator;
