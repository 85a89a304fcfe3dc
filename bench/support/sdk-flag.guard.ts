// A flag gate built the way the WorkOS SDK documents a session read, for comparison with
// @RequireFlag: loadSealedSession({ sessionData, cookiePassword }).authenticate() on every
// request, then `featureFlags.includes('beta')`. No cache: the SDK offers none.
import {
  ForbiddenException,
  Injectable,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { WorkOS } from '@workos-inc/node';
import type { SdkRouteOptions } from './apps.js';

const COOKIE = /(?:^|;\s*)wos-session=([^;]+)/;

/** Reads a sealed session and its flags with the SDK; throws unless it is authenticated. */
export function sdkSessionReader(options: SdkRouteOptions): (sealed: string) => Promise<string[]> {
  const { apiKey, cookiePassword, ...connection } = options;
  const workos = new WorkOS(apiKey, { ...connection, maxRetries: 0 });
  return async (sealed) => {
    const result = await workos.userManagement
      .loadSealedSession({ sessionData: sealed, cookiePassword })
      .authenticate();
    if (!result.authenticated) throw new ForbiddenException();
    return result.featureFlags ?? [];
  };
}

export function sdkFlagGuard(options: SdkRouteOptions): Type<CanActivate> {
  const read = sdkSessionReader(options);

  @Injectable()
  class SdkFlagGuard implements CanActivate {
    async canActivate(context: ExecutionContext): Promise<boolean> {
      const req = context.switchToHttp().getRequest<{ headers: { cookie?: string } }>();
      const sealed = COOKIE.exec(req.headers.cookie ?? '')?.[1];
      if (!sealed || !(await read(sealed)).includes('beta')) throw new ForbiddenException();
      return true;
    }
  }
  return SdkFlagGuard;
}
