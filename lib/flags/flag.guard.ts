import { HttpException, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { rejectRequest } from '../session/auth-failure.js';
import type { HttpRequestLike } from '../session/http.types.js';
import { SessionResolver } from '../session/session.resolver.js';
import type { AuthKitSession } from '../session/session.types.js';
import { FlagAudit } from './flag-audit.service.js';
import { FlagDrift } from './flag-drift.js';
import { FLAG_REQUIREMENT, type FlagRequirement } from './flag-requirement.metadata.js';
import { FlagWatermark } from './flag-watermark.js';
import { LiveFlags } from './live-flags.js';

/** Requests already let through: the guard runs twice when both class and method carry it. */
const passed = new WeakSet<object>();

/**
 * Decides `@RequireFlag` routes. The session is resolved here (guards run before interceptors),
 * so an expired cookie, or one older than `maxClaimAge` or the last flag change, is refreshed
 * before the decision. The answer comes from the token's claim, or from the live flag
 * configuration for `fresh` routes and for Bearer tokens whose claim is stale.
 */
@Injectable()
export class FlagGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly resolver: SessionResolver,
    private readonly adapterHost: HttpAdapterHost,
    private readonly live: LiveFlags,
    private readonly drift: FlagDrift,
    private readonly audit: FlagAudit,
    private readonly watermark: FlagWatermark,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<HttpRequestLike & { url?: string; method?: string }>();
    if (passed.has(req)) return true;
    const requirements = [
      this.reflector.get(FLAG_REQUIREMENT, context.getClass()),
      this.reflector.get(FLAG_REQUIREMENT, context.getHandler()),
    ].filter((r): r is FlagRequirement => r !== undefined);
    if (requirements.length === 0) return true;

    const res = http.getResponse<object>();
    const ages = requirements.map((r) => r.maxClaimAge).filter((a): a is number => a !== undefined);
    const maxClaimAge = ages.length ? Math.min(...ages) : undefined;
    const resolution =
      maxClaimAge === undefined
        ? await this.resolver.resolve(req, res)
        : await this.resolver.ensureFresh(req, res, this.resolver.staleBefore(maxClaimAge));
    if (!resolution.ok) rejectRequest(this.adapterHost, res, resolution.failure);
    const { session } = resolution;
    // A cookie session was refreshed by the resolver if it could be; a Bearer one cannot be.
    const stale =
      resolution.stale === true ||
      (session.source === 'bearer' &&
        this.resolver.freshAt(session) < this.resolver.staleBefore(maxClaimAge));

    const route = `${context.getClass().name}.${context.getHandler().name}`;
    // Live answers count only when polled after the last known change.
    const live = this.live.availableSince(this.watermark.value);
    for (const requirement of requirements) {
      const source = this.sourceFor(requirement, session, stale, live, res);
      this.decide(requirement, session, source, live, route, req);
    }
    passed.add(req);
    return true;
  }

  /** Claim or live; throws when neither can be trusted. */
  private sourceFor(
    requirement: FlagRequirement,
    session: AuthKitSession,
    stale: boolean,
    live: boolean,
    res: object,
  ): 'claim' | 'live' {
    if (!requirement.fresh && !stale) return 'claim';
    if (live) return 'live';
    if (requirement.fresh?.onUnavailable === 'claim') return 'claim';
    if (requirement.fresh) {
      this.unavailable(res, 'FLAGS_UNAVAILABLE', 'live flag configuration unavailable');
    }
    if (session.source === 'bearer') {
      this.adapterHost.httpAdapter.setHeader(
        res,
        'WWW-Authenticate',
        'Bearer error="invalid_token", error_description="claims are stale: refresh the token"',
      );
      throw new HttpException(
        {
          statusCode: 401,
          error: 'Unauthorized',
          reason: 'STALE_CLAIMS',
          message: 'the token was issued before a flag change or its allowed age',
        },
        401,
      );
    }
    return this.unavailable(res, 'REFRESH_UNAVAILABLE', 'stale session could not be refreshed');
  }

  private decide(
    { flags, mode }: FlagRequirement,
    session: AuthKitSession,
    source: 'claim' | 'live',
    checkLive: boolean,
    route: string,
    req: { url?: string },
  ): void {
    const claims = new Set(session.featureFlags);
    const missing: string[] = [];
    for (const flag of flags) {
      const claim = claims.has(flag);
      const live = checkLive
        ? this.live.isEnabled(flag, session.userId, session.organizationId)
        : claim;
      if (checkLive) {
        this.drift.observe(flag, claim, live, {
          sid: session.sessionId,
          iat: session.claims.iat,
          org: session.organizationId,
        });
      }
      if (!(source === 'live' ? live : claim)) missing.push(flag);
    }
    const allowed = mode === 'any' ? missing.length < flags.length : missing.length === 0;
    // Why the decision went this way, never the token itself.
    this.audit.record({
      event: 'flag_decision',
      allowed,
      flags,
      mode,
      source,
      missing,
      iat: session.claims.iat,
      sid: session.sessionId,
      user: session.userId,
      org: session.organizationId ?? null,
      route,
      path: (req.url ?? '').split('?')[0] ?? '',
      at: new Date().toISOString(),
    });
    if (!allowed) {
      throw new HttpException(
        {
          statusCode: 403,
          error: 'Forbidden',
          reason: 'FLAG_DISABLED',
          message: `feature flag${flags.length > 1 ? 's' : ''} not enabled for this session`,
          flags: mode === 'any' ? flags : missing,
          mode,
          source,
        },
        403,
      );
    }
  }

  private unavailable(res: object, reason: string, message: string): never {
    this.adapterHost.httpAdapter.setHeader(res, 'Retry-After', '1');
    throw new HttpException(
      { statusCode: 503, error: 'Service Unavailable', reason, message },
      503,
    );
  }
}
