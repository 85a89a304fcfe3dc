import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { AuthKitModuleOptions } from './authkit.options.js';
import { AuthKitGuard } from './session/authkit.guard.js';

export interface AuthKitModuleExtras {
  /** Register the module globally (default true: guards and services work in every module). */
  isGlobal?: boolean;
  /** Require a session on every route (AuthKitGuard as APP_GUARD); `@Public()` opts out. */
  globalGuard?: boolean;
}

export const {
  ConfigurableModuleClass: AuthKitConfigurableModule,
  MODULE_OPTIONS_TOKEN: AUTHKIT_MODULE_OPTIONS,
  OPTIONS_TYPE: AUTHKIT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: AUTHKIT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AuthKitModuleOptions>({ moduleName: 'AuthKit' })
  .setClassMethodName('forRoot')
  .setExtras<AuthKitModuleExtras>({ isGlobal: true, globalGuard: false }, (definition, extras) => {
    const guard: Provider[] = extras.globalGuard
      ? [{ provide: APP_GUARD, useClass: AuthKitGuard }]
      : [];
    return {
      ...definition,
      global: extras.isGlobal,
      providers: [...(definition.providers ?? []), ...guard],
    };
  })
  .build();
