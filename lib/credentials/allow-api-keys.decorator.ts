import { Reflector } from '@nestjs/core';

export const ALLOW_API_KEYS = Reflector.createDecorator<boolean>({
  key: 'nestjs-authkit:allow-api-keys',
});

/**
 * Accepts WorkOS API keys (`Authorization: Bearer sk_…`) on a route or controller, besides
 * sessions; `AuthKitModule.forRoot({ apiKeys: true })` accepts them everywhere. The key's
 * organization and permissions are checked by the same decorators as a session's
 * (`@RequirePermission`, `@RequireOrganization`); `session.source` is `'api-key'`.
 *
 * @example
 * ```ts
 * @Get('exports')
 * @AllowApiKeys()
 * @RequirePermission('exports:read')
 * list(@CurrentSession() principal: AuthKitSession) {}
 * ```
 */
export const AllowApiKeys = (): ClassDecorator & MethodDecorator => ALLOW_API_KEYS(true);
