import {
  Inject,
  Logger,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnModuleInit,
  Optional,
  type Type,
} from '@nestjs/common';
import { DiscoveryModule, ModuleRef } from '@nestjs/core';
import { WorkOS } from '@workos-inc/node';
import {
  API_KEY_CACHE_OPTIONS,
  API_KEY_CREDENTIAL,
  AUTHKIT_CONFIG,
  AUTHKIT_WEBHOOK_CONTROLLER,
  WORKOS_CLIENT,
  WORKOS_GRANT_CLIENT,
} from './authkit.constants.js';
import { AUTHKIT_MODULE_OPTIONS, AuthKitConfigurableModule } from './authkit.module-definition.js';
import { resolveAuthKitConfig } from './authkit.config.js';
import { deprecationWarning, groupOptions } from './authkit.option-aliases.js';
import type { AuthKitConfig, AuthKitModuleOptions } from './authkit.options.js';
import { FlagAudit } from './flags/flag-audit.service.js';
import { FlagDrift } from './flags/flag-drift.js';
import { ClaimsFreshness } from './session/claims-freshness.js';
import { ClaimsWatermark } from './session/claims-watermark.js';
import { AccessGuard } from './access/access.guard.js';
import { FlagService } from './flags/flag.service.js';
import { FlagSources } from './flags/flag-sources.js';
import { LiveFlags } from './flags/live-flags.js';
import { WebhookContentTypeMiddleware } from './flags/webhook-content-type.middleware.js';
import { AuthKitMetrics } from './metrics/authkit-metrics.js';
import { ApiKeyAuthenticator } from './credentials/api-key.authenticator.js';
import { ApiKeyValidator } from './credentials/api-key.validator.js';
import { AccessTokenVerifier } from './session/access-token.verifier.js';
import { AuthKitGuard } from './session/authkit.guard.js';
import { SessionCookie } from './session/session.cookie.js';
import { FieldResolverGuardsCheck } from './session/field-resolver-guards.check.js';
import { SessionContextGuard } from './session/session-context.guard.js';
import { runFirstAmongGlobalGuards } from './session/session-context.order.js';
import { ConnectionSessions } from './session/connection-sessions.js';
import { RevokedSessions } from './session/revoked-sessions.js';
import { loadTransportErrors } from './context/transport-errors.js';
import { SessionRefresher } from './session/session.refresher.js';
import { SessionResolver } from './session/session.resolver.js';
import { SessionSealer } from './session/session.sealer.js';
import { SessionService } from './session/session.service.js';

/**
 * WorkOS AuthKit sessions and feature flags for Nest:
 * `AuthKitModule.forRoot({ clientId, apiKey, cookiePassword })` or `forRootAsync(...)`.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     AuthKitModule.forRoot({
 *       redirectUri: 'https://app.example.com/auth/callback', // the rest from WORKOS_* env
 *       routes: true,
 *       globalGuard: true,
 *     }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 *
 * @property forRoot - The module with these options (`AuthKitModuleOptions`) and extras
 * (`AuthKitModuleExtras`).
 * @property forRootAsync - The module with options from a factory
 * (`{ imports, inject, useFactory }`, `useClass` or `useExisting`) and extras given directly.
 * @hideconstructor
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: AUTHKIT_CONFIG,
      inject: [AUTHKIT_MODULE_OPTIONS],
      // Once per module instance: the flat names used, each with its grouped spelling.
      useFactory: (options: AuthKitModuleOptions) => {
        const warning = deprecationWarning(options);
        if (warning) new Logger('AuthKit').warn(warning);
        return resolveAuthKitConfig(options);
      },
    },
    {
      provide: WORKOS_CLIENT,
      inject: [AUTHKIT_MODULE_OPTIONS, AUTHKIT_CONFIG],
      useFactory: (options: AuthKitModuleOptions, config: AuthKitConfig) =>
        options.workos ?? workosClient(options, config, config.requestTimeoutMs),
    },
    {
      provide: WORKOS_GRANT_CLIENT,
      inject: [AUTHKIT_MODULE_OPTIONS, AUTHKIT_CONFIG],
      useFactory: (options: AuthKitModuleOptions, config: AuthKitConfig) =>
        options.workos ?? workosClient(options, config, config.refreshTimeoutMs),
    },
    AuthKitMetrics,
    ApiKeyValidator,
    { provide: API_KEY_CREDENTIAL, useClass: ApiKeyAuthenticator },
    {
      provide: API_KEY_CACHE_OPTIONS,
      inject: [AUTHKIT_CONFIG],
      useFactory: (config: AuthKitConfig) => ({
        ttlSeconds: config.apiKeys.ttlSeconds,
        negativeTtlSeconds: Math.min(10, config.apiKeys.ttlSeconds),
        maxEntries: 10_000,
      }),
    },
    AccessTokenVerifier,
    SessionCookie,
    SessionRefresher,
    SessionSealer,
    ClaimsFreshness,
    SessionResolver,
    SessionService,
    FlagService,
    AccessGuard,
    FlagSources,
    ClaimsWatermark,
    RevokedSessions,
    LiveFlags,
    FlagDrift,
    FlagAudit,
    AuthKitGuard,
    ConnectionSessions,
    SessionContextGuard,
    FieldResolverGuardsCheck,
  ],
  // The guards are instantiated in the modules that use them: their dependencies go out too.
  exports: [
    AUTHKIT_CONFIG,
    WORKOS_CLIENT,
    SessionResolver,
    SessionService,
    FlagService,
    AccessGuard,
    FlagSources,
    AuthKitGuard,
    ClaimsWatermark,
    RevokedSessions,
    ConnectionSessions,
    LiveFlags,
    FlagDrift,
    FlagAudit,
    AuthKitMetrics,
    ApiKeyValidator,
    API_KEY_CREDENTIAL,
    // Read by the health indicator (nestjs-authkit/terminus): its key set's state.
    AccessTokenVerifier,
  ],
})
export class AuthKitModule extends AuthKitConfigurableModule implements OnModuleInit, NestModule {
  constructor(
    moduleRef: ModuleRef,
    contextGuard: SessionContextGuard,
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    @Optional()
    @Inject(AUTHKIT_WEBHOOK_CONTROLLER)
    private readonly webhookController?: Type<unknown>,
  ) {
    super();
    // The first of all global guards, yours included: the session is resolved (and made
    // current) before any of them runs.
    runFirstAmongGlobalGuards(moduleRef, contextGuard);
  }

  /** A webhook that is not JSON is refused before any body parser (Fastify's included). */
  configure(consumer: MiddlewareConsumer): void {
    if (this.webhookController) {
      consumer.apply(WebhookContentTypeMiddleware).forRoutes(this.webhookController);
    }
  }

  /** WebSocket and rpc refusals need those packages' exception classes, when installed. */
  async onModuleInit(): Promise<void> {
    if (!this.config.cookies) {
      new Logger('AuthKit').log(
        'resource-server mode (no apiKey, no cookiePassword): Bearer access tokens only; ' +
          'cookie sessions, sign-in routes, refresh and live flags are off',
      );
    }
    await loadTransportErrors();
  }
}

function workosClient(
  options: AuthKitModuleOptions,
  config: AuthKitConfig,
  timeout: number,
): WorkOS {
  const { api } = groupOptions(options).groups;
  return new WorkOS(config.apiKey, {
    clientId: config.clientId,
    apiHostname: api.hostname,
    https: api.https,
    port: api.port,
    timeout,
    // A user is waiting: fail fast and keep the cookie; the next request tries again.
    maxRetries: 0,
  });
}
