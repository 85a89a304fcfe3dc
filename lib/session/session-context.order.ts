import type { CanActivate } from '@nestjs/common';
import type { ApplicationConfig, ModuleRef } from '@nestjs/core';

/**
 * Puts the session context guard ahead of every other global guard. Nest runs `APP_GUARD`s in
 * module order, root module first, so a user's `APP_GUARD` would otherwise run before ours and
 * see no session in `FlagService` / `SessionService.current()`. Runs while providers are
 * instantiated: before Nest adds the `APP_GUARD`s and before `app.useGlobalGuards()`.
 */
export function runFirstAmongGlobalGuards(moduleRef: ModuleRef, guard: CanActivate): void {
  // ModuleRef keeps its container protected; it has been there since Nest 6.
  const { container } = moduleRef as unknown as {
    container?: { applicationConfig?: ApplicationConfig };
  };
  const config = container?.applicationConfig;
  if (!config || typeof config.getGlobalGuards !== 'function') {
    throw new Error(
      'nestjs-authkit could not register its session context guard with this version of ' +
        '@nestjs/core: use @nestjs/core 12.x (the supported range), or report the version.',
    );
  }
  const guards = config.getGlobalGuards();
  if (!guards.includes(guard)) guards.unshift(guard);
}
