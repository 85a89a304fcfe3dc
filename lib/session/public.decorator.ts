import { Reflector } from '@nestjs/core';

export const IS_PUBLIC = Reflector.createDecorator<boolean>({ key: 'nestjs-authkit:public' });

/**
 * Opts a route or controller out of AuthKitGuard (when it is applied globally). The access
 * decorators (`@RequireFlag`, `@RequirePermission` …) still apply where both are used.
 *
 * @example
 * ```ts
 * @Public()
 * @Get('health')
 * health() {
 *   return { ok: true };
 * }
 * ```
 */
export const Public = (): ClassDecorator & MethodDecorator => IS_PUBLIC(true);
