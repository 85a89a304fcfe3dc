import { Reflector } from '@nestjs/core';

/**
 * Internal: the auth routes resolve what they need themselves (a sign-out must not refresh
 * the session it ends), so the global interceptor leaves them alone.
 */
export const SKIP_SESSION = Reflector.createDecorator<boolean>({
  key: 'nestjs-authkit:skip-session',
});
