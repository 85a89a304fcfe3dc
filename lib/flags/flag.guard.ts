import {
  ForbiddenException,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { rejectRequest } from '../session/auth-failure.js';
import type { HttpRequestLike } from '../session/http.types.js';
import { SessionResolver } from '../session/session.resolver.js';
import { FLAG_REQUIREMENT, type FlagRequirement } from './flag-requirement.metadata.js';

/** Requests already let through: the guard runs twice when both class and method carry it. */
const passed = new WeakSet<object>();

/**
 * Decides `@RequireFlag` routes on the session's claims. The session is resolved here, so an
 * expired cookie is refreshed before the decision (guards run before interceptors).
 */
@Injectable()
export class FlagGuard implements CanActivate {
  private readonly logger = new Logger('AuthKit');

  constructor(
    private readonly reflector: Reflector,
    private readonly resolver: SessionResolver,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<HttpRequestLike>();
    if (passed.has(req)) return true;
    const requirements = [
      this.reflector.get(FLAG_REQUIREMENT, context.getClass()),
      this.reflector.get(FLAG_REQUIREMENT, context.getHandler()),
    ].filter((r): r is FlagRequirement => r !== undefined);
    if (requirements.length === 0) return true;

    const res = http.getResponse<object>();
    const resolution = await this.resolver.resolve(req, res);
    if (!resolution.ok) rejectRequest(this.adapterHost, res, resolution.failure);
    const { session } = resolution;
    const enabled = new Set(session.featureFlags);
    for (const { flags, mode } of requirements) {
      const missing = flags.filter((flag) => !enabled.has(flag));
      const allowed = mode === 'any' ? missing.length < flags.length : missing.length === 0;
      // Why the decision went this way, never the token itself.
      // An object, not a string: the logger formats it only when debug is on (hot path).
      this.logger.debug({
        event: 'flag_decision',
        allowed,
        flags,
        mode,
        source: 'claim',
        iat: session.claims.iat,
        sid: session.sessionId,
        org: session.organizationId,
        user: session.userId,
      });
      if (!allowed) {
        throw new ForbiddenException({
          statusCode: 403,
          error: 'Forbidden',
          reason: 'FLAG_DISABLED',
          message: `feature flag${flags.length > 1 ? 's' : ''} not enabled for this session`,
          flags: mode === 'any' ? flags : missing,
          mode,
        });
      }
    }
    passed.add(req);
    return true;
  }
}
