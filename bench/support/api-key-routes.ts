// The API-key bench's route: GET /keys/reports under @AllowApiKeys() + @RequirePermission, which
// a Bearer access token and an API key of the bench organization both pass (the key's principal
// holds the permission), so its rows differ only in the credential. A plain route in the bare app.
import { Controller, Get, type Type } from '@nestjs/common';
import type { AuthKitLib } from './apps.js';
import { PERMISSION } from './world.js';

/**
 * The route's path.
 *
 * @example
 * ```ts
 * const row = { app, path: API_KEY_PATH, headers: { authorization: `Bearer ${token}` } };
 * ```
 */
export const API_KEY_PATH = '/keys/reports';

type ApiKeyLib = AuthKitLib & Required<Pick<AuthKitLib, 'AllowApiKeys' | 'RequirePermission'>>;

/**
 * Whether a build accepts API keys (older builds, which the instructions bench loads, do not).
 *
 * @example
 * ```ts
 * if (hasApiKeyDecorators(lib)) controllers.push(apiKeyController(lib));
 * ```
 */
export function hasApiKeyDecorators(lib: AuthKitLib): lib is ApiKeyLib {
  return typeof lib.AllowApiKeys === 'function' && typeof lib.RequirePermission === 'function';
}

/**
 * The route's controller, decorated with `lib`'s decorators, or ungated without a lib.
 *
 * @example
 * ```ts
 * @Module({ imports: [AuthKitModule.forRoot(options)], controllers: [apiKeyController(lib)] })
 * class AppModule {}
 * ```
 */
export function apiKeyController(lib: AuthKitLib | undefined): Type {
  if (lib && !hasApiKeyDecorators(lib)) {
    throw new Error(
      'apiKeyController: this AuthKit build has no @AllowApiKeys; leave the route out for it ' +
        '(hasApiKeyDecorators(lib))',
    );
  }
  const none: MethodDecorator = () => undefined;
  const allow: MethodDecorator = lib?.AllowApiKeys?.() ?? none;
  const permission: MethodDecorator = lib?.RequirePermission?.(PERMISSION) ?? none;

  @Controller('keys')
  class ApiKeyController {
    @Get('reports')
    @allow
    @permission
    reports() {
      return 'ok';
    }
  }
  return ApiKeyController;
}
