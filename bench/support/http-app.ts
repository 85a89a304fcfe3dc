// The HTTP app under test: one unguarded route and one @RequireFlag('beta') route, the access
// bench's two routes (access-routes.ts) and the API-key bench's (api-key-routes.ts) where the
// build has their decorators.
// Without AuthKit (bare) all are plain routes; the bench compares the same route across apps.
// With an SDK guard it also has GET /sdk, gated the way the WorkOS SDK documents it.
import { Controller, Get, Module, UseGuards, type CanActivate, type Type } from '@nestjs/common';
import { accessController, hasAccessDecorators } from './access-routes.js';
import { apiKeyController, hasApiKeyDecorators } from './api-key-routes.js';
import type { WithAuthKit } from './apps.js';

export function httpModule(authkit: WithAuthKit | undefined, sdkGuard?: Type<CanActivate>): Type {
  // The bare app has the same routes, ungated: only the package under test differs.
  const gate: MethodDecorator = authkit ? authkit.lib.RequireFlag('beta') : () => undefined;

  @Controller()
  class BenchController {
    @Get('none')
    none() {
      return 'ok';
    }

    @Get('flag')
    @gate
    flag() {
      return 'ok';
    }
  }

  @Controller()
  class SdkController {
    @Get('sdk')
    sdk() {
      return 'ok';
    }
  }
  if (sdkGuard) UseGuards(sdkGuard)(SdkController);

  const controllers: Type[] = [BenchController];
  if (!authkit || hasAccessDecorators(authkit.lib))
    controllers.push(accessController(authkit?.lib));
  if (!authkit || hasApiKeyDecorators(authkit.lib))
    controllers.push(apiKeyController(authkit?.lib));
  if (sdkGuard) controllers.push(SdkController);

  @Module({
    imports: authkit ? [authkit.lib.AuthKitModule.forRoot(authkit.options)] : [],
    controllers,
    providers: sdkGuard ? [sdkGuard] : [],
  })
  class BenchModule {}

  return BenchModule;
}
