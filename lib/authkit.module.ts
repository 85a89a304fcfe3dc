import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { WorkOS } from '@workos-inc/node';
import { AUTHKIT_CONFIG, WORKOS_CLIENT } from './authkit.constants.js';
import { AUTHKIT_MODULE_OPTIONS, AuthKitConfigurableModule } from './authkit.module-definition.js';
import {
  resolveAuthKitConfig,
  type AuthKitConfig,
  type AuthKitModuleOptions,
} from './authkit.options.js';
import { FlagAudit } from './flags/flag-audit.service.js';
import { FlagDrift } from './flags/flag-drift.js';
import { FlagWatermark } from './flags/flag-watermark.js';
import { FlagGuard } from './flags/flag.guard.js';
import { FlagService } from './flags/flag.service.js';
import { LiveFlags } from './flags/live-flags.js';
import { AccessTokenVerifier } from './session/access-token.verifier.js';
import { AuthKitGuard } from './session/authkit.guard.js';
import { SessionCookie } from './session/session.cookie.js';
import { SessionInterceptor } from './session/session.interceptor.js';
import { SessionRefresher } from './session/session.refresher.js';
import { SessionResolver } from './session/session.resolver.js';
import { SessionService } from './session/session.service.js';

/**
 * WorkOS AuthKit sessions and feature flags for Nest:
 * `AuthKitModule.forRoot({ clientId, apiKey, cookiePassword })` or `forRootAsync(...)`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: AUTHKIT_CONFIG,
      inject: [AUTHKIT_MODULE_OPTIONS],
      useFactory: (options: AuthKitModuleOptions) => resolveAuthKitConfig(options),
    },
    {
      provide: WORKOS_CLIENT,
      inject: [AUTHKIT_MODULE_OPTIONS, AUTHKIT_CONFIG],
      useFactory: (options: AuthKitModuleOptions, config: AuthKitConfig) =>
        options.workos ??
        new WorkOS(config.apiKey, {
          clientId: config.clientId,
          apiHostname: options.apiHostname,
          https: options.https,
          port: options.port,
          timeout: config.requestTimeoutMs,
          // A user is waiting: fail fast and keep the cookie; the next request tries again.
          maxRetries: 0,
        }),
    },
    AccessTokenVerifier,
    SessionCookie,
    SessionRefresher,
    SessionResolver,
    SessionService,
    FlagService,
    FlagGuard,
    FlagWatermark,
    LiveFlags,
    FlagDrift,
    FlagAudit,
    AuthKitGuard,
    { provide: APP_INTERCEPTOR, useClass: SessionInterceptor },
  ],
  // The guards are instantiated in the modules that use them: their dependencies go out too.
  exports: [
    WORKOS_CLIENT,
    SessionResolver,
    SessionService,
    FlagService,
    FlagGuard,
    AuthKitGuard,
    FlagWatermark,
    LiveFlags,
    FlagDrift,
    FlagAudit,
  ],
})
export class AuthKitModule extends AuthKitConfigurableModule {}
