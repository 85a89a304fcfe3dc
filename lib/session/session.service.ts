import { Inject, Injectable } from '@nestjs/common';
import type { WorkOS } from '@workos-inc/node';
import { WORKOS_CLIENT } from '../authkit.constants.js';
import type { HttpRequestLike } from './http.types.js';
import { currentContext } from './request-context.js';
import { SessionCookie } from './session.cookie.js';
import { rejectedToken, SessionResolver } from './session.resolver.js';
import type { AuthKitSession, SessionResolution } from './session.types.js';

/** Session operations for code that needs more than the guards and decorators give. */
@Injectable()
export class SessionService {
  constructor(
    private readonly resolver: SessionResolver,
    private readonly cookie: SessionCookie,
    @Inject(WORKOS_CLIENT) private readonly workos: WorkOS,
  ) {}

  /** The current request's session, or undefined when it has none. */
  current(): AuthKitSession | undefined {
    const { resolution } = currentContext('SessionService.current()');
    return resolution.ok ? resolution.session : undefined;
  }

  /** Resolves any request's session (once per request), e.g. from your own guard. */
  authenticate(req: HttpRequestLike, res: object): Promise<SessionResolution> {
    return this.resolver.resolve(req, res);
  }

  /** Refreshes the current cookie session now, in its own organization unless told otherwise. */
  async refresh(options: { organizationId?: string } = {}): Promise<SessionResolution> {
    const context = currentContext('SessionService.refresh()');
    const opened = await this.resolver.openCookie(context.req);
    if (!opened.ok) return opened;
    const { data, check } = opened;
    if (check.status !== 'valid' && check.status !== 'expired')
      return rejectedToken(check, 'cookie');
    const resolution = await this.resolver.refreshCookie(
      context.req,
      context.res,
      { data, claims: check.claims },
      options.organizationId ?? check.claims.org_id ?? data.organizationId,
    );
    context.resolution = resolution;
    return resolution;
  }

  /** Moves the current session into another organization the user belongs to. */
  switchOrganization(organizationId: string): Promise<SessionResolution> {
    return this.refresh({ organizationId });
  }

  /**
   * Clears the session cookie and returns WorkOS's logout URL for the session (`sid`), which
   * also ends the session at WorkOS. Works after the access token has expired.
   */
  async signOut(options: { returnTo?: string } = {}): Promise<string | undefined> {
    const context = currentContext('SessionService.signOut()');
    const sessionId = context.resolution.ok
      ? context.resolution.session.sessionId
      : await this.resolver.cookieSessionId(context.req);
    if (this.cookie.read(context.req) !== undefined) this.cookie.clear(context.req, context.res);
    return sessionId
      ? this.workos.userManagement.getLogoutUrl({ sessionId, returnTo: options.returnTo })
      : undefined;
  }
}
