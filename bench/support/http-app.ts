// The HTTP app under test: one unguarded route and one @RequireFlag('beta') route. Without
// AuthKit (bare) both are plain routes; the bench compares the same route across apps.
import { Controller, Get, Module, type Type } from '@nestjs/common';
import type { WithAuthKit } from './apps.js';

export function httpModule(authkit: WithAuthKit | undefined): Type {
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

  @Module({
    imports: authkit ? [authkit.lib.AuthKitModule.forRoot(authkit.options)] : [],
    controllers: [BenchController],
  })
  class BenchModule {}

  return BenchModule;
}
