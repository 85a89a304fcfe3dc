import { ConfigurableModuleBuilder, type Provider, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AUTHKIT_WEBHOOK_CONTROLLER } from './authkit.constants.js';
import type { AuthKitModuleOptions } from './authkit.options.js';
import { createAuthController } from './auth/auth.controller.js';
import { AuthService } from './auth/auth.service.js';
import { createFlagWebhookController } from './flags/flag-webhook.controller.js';
import { AuthKitGuard } from './session/authkit.guard.js';

/**
 * What `forRoot()` / `forRootAsync()` take besides the options: how the module is mounted.
 * Read when the module is built, so they stay out of an async factory.
 *
 * @example
 * ```ts
 * AuthKitModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ apiKey: config.getOrThrow('WORKOS_API_KEY') }),
 *   globalGuard: true,
 *   routes: { prefix: 'auth' },
 *   webhooks: true,
 * });
 * ```
 */
export interface AuthKitModuleExtras {
  /**
   * Register the module globally: guards and services work in every module.
   * @default true
   */
  isGlobal?: boolean;
  /**
   * Require a session on every route (AuthKitGuard as APP_GUARD); `@Public()` opts out.
   * @default false
   */
  globalGuard?: boolean;
  /**
   * Mount the sign-in routes (GET login, signup, callback; POST logout, switch-organization)
   * under `prefix` (default 'auth'). Needs `redirectUri` pointing at `<prefix>/callback`.
   * @default false
   */
  routes?:
    | boolean
    | {
        /**
         * The routes' path prefix.
         * @default 'auth'
         */
        prefix?: string;
      };
  /**
   * Mount the WorkOS webhook endpoint (POST, default path 'webhooks/workos'): `flag.*` events
   * move the flag-change watermark. Needs `webhookSecret` and an app created with `rawBody: true`.
   * @default false
   */
  webhooks?:
    | boolean
    | {
        /**
         * The endpoint's path (register its URL in the WorkOS dashboard).
         * @default 'webhooks/workos'
         */
        path?: string;
      };
}

export const {
  ConfigurableModuleClass: AuthKitConfigurableModule,
  MODULE_OPTIONS_TOKEN: AUTHKIT_MODULE_OPTIONS,
  OPTIONS_TYPE: AUTHKIT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: AUTHKIT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AuthKitModuleOptions>({ moduleName: 'AuthKit' })
  .setClassMethodName('forRoot')
  .setExtras<AuthKitModuleExtras>(
    { isGlobal: true, globalGuard: false, routes: false, webhooks: false },
    (definition, extras) => {
      const providers: Provider[] = extras.globalGuard
        ? [{ provide: APP_GUARD, useClass: AuthKitGuard }]
        : [];
      const prefix = routePrefix(extras.routes);
      if (prefix !== undefined) providers.push(AuthService);
      const webhook = webhookController(extras.webhooks);
      if (webhook) providers.push({ provide: AUTHKIT_WEBHOOK_CONTROLLER, useValue: webhook });
      return {
        ...definition,
        global: extras.isGlobal,
        providers: [...(definition.providers ?? []), ...providers],
        controllers: [
          ...(prefix === undefined ? [] : [createAuthController(prefix)]),
          ...(webhook ? [webhook] : []),
        ],
      };
    },
  )
  .build();

function webhookController(webhooks: AuthKitModuleExtras['webhooks']): Type<unknown> | undefined {
  if (!webhooks) return undefined;
  return createFlagWebhookController(
    (webhooks === true ? undefined : webhooks.path) ?? 'webhooks/workos',
  );
}

function routePrefix(routes: AuthKitModuleExtras['routes']): string | undefined {
  if (!routes) return undefined;
  return (routes === true ? undefined : routes.prefix) ?? 'auth';
}
