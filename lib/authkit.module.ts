import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { WorkOS } from '@workos-inc/node';
import { AUTHKIT_CONFIG, WORKOS_CLIENT } from './authkit.constants.js';
import { AUTHKIT_MODULE_OPTIONS, AuthKitConfigurableModule } from './authkit.module-definition.js';
import {
  resolveAuthKitConfig,
  type AuthKitConfig,
  type AuthKitModuleOptions,
} from './authkit.options.js';
import { FlagGuard } from './flags/flag.guard.js';
import { FlagService } from './flags/flag.service.js';
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
    AuthKitGuard,
    { provide: APP_INTERCEPTOR, useClass: SessionInterceptor },
  ],
  exports: [WORKOS_CLIENT, SessionResolver, SessionService, FlagService, FlagGuard, AuthKitGuard],
})
export class AuthKitModule extends AuthKitConfigurableModule {}
