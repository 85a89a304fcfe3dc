import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { AUTHKIT_CONFIG } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { AuthKitException } from '../context/authkit.exception.js';
import { routeOf } from '../context/route.js';
import { AuthKitGuardBase } from '../session/authkit-guard.base.js';
import type { SessionEntry } from '../session/request-context.js';
import { SessionResolver } from '../session/session.resolver.js';
import type { AuthKitSession, SessionResolution } from '../session/session.types.js';
import { AuthKitMetrics } from '../metrics/authkit-metrics.js';
import { FlagAudit } from '../flags/flag-audit.service.js';
import { FlagDrift } from '../flags/flag-drift.js';
import { FLAG_REQUIREMENT, type FlagRequirement } from '../flags/flag-requirement.metadata.js';
import { flagContext, type FlagContext } from '../flags/flag-evaluation.js';
import { FlagSources, type FlagSourceUnavailable } from '../flags/flag-sources.js';
import { usableTargets } from '../flags/flag-targets.js';
import { LiveFlags } from '../flags/live-flags.js';
import { checkAccess, type AccessOutcome } from './access-check.js';
import { ACCESS_ORDER, type AccessRequirement } from './access-requirement.js';
import { accessRequirementsOf } from './access-requirement.metadata.js';
import { OPTIONAL_SESSION } from '../session/optional-session.decorator.js';

/**
 * Handler invocations already decided: the guard runs twice when both class and method carry
 * it, each time on the same ExecutionContext, and decides both requirements the first time.
 */
const DECIDED = Symbol('nestjs-authkit.flags-decided');
type Marked = ExecutionContext & { [DECIDED]?: true };

interface Plan {
  requirements: FlagRequirement[];
  /** The strictest `maxClaimAge` of the requirements, if any sets one. */
  maxClaimAge?: number;
  /** Access checks of class and method, in the order they are decided (ACCESS_ORDER). */
  access: AccessRequirement[];
  /** `@OptionalSession()`: a request without a credential goes through unchecked. */
  optional: boolean;
}

/** Requirements by controller (or resolver, gateway) class and handler. */
const plans = new WeakMap<object, WeakMap<object, Plan | undefined>>();

/**
 * Decides every `@Require…` decorator of a route (and `@RequireFlag`, `@DenyImpersonation`) in
 * one pass: who the caller is, how recently they signed in, what their token holds, then
 * flags. The session is resolved here (guards run before interceptors), so an expired cookie,
 * or one older than `maxClaimAge` or the last change affecting it, is refreshed first. Flags
 * come from the token's claim, or from the live configuration for `fresh` routes and stale
 * Bearer tokens; the other claims have no live source, so a stale Bearer token is refused
 * (401 `STALE_CLAIMS`). Each decision goes to the audit sink.
 *
 * @example
 * ```ts
 * // Brought by the decorators; subclass it to read credentials from another transport:
 * @Injectable()
 * class NatsAccessGuard extends AccessGuard {
 *   protected override getRequestResponse(context: ExecutionContext): AuthKitCarrier {
 *     const msg = context.switchToRpc().getContext<NatsContext>();
 *     return { transport: 'rpc', key: msg, req: { headers: { authorization: msg.getHeaders()?.get('authorization') } } };
 *   }
 * }
 * ```
 * @hideconstructor
 */
@Injectable()
export class AccessGuard extends AuthKitGuardBase {
  constructor(
    private readonly reflector: Reflector,
    resolver: SessionResolver,
    adapterHost: HttpAdapterHost,
    private readonly live: LiveFlags,
    private readonly drift: FlagDrift,
    private readonly audit: FlagAudit,
    private readonly sources: FlagSources,
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    private readonly metrics: AuthKitMetrics,
  ) {
    super(resolver, adapterHost);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if ((context as Marked)[DECIDED]) return true;
    const plan = this.planOf(context);
    if (!plan) return true;
    const entry = this.begin(context);
    // Settled already (every GraphQL field after the query's first): decide without a tick.
    if (plan.maxClaimAge === undefined && entry.resolution) {
      return this.decideWithKey(context, plan, entry, entry.resolution);
    }
    const resolving =
      plan.maxClaimAge === undefined
        ? entry.promise
        : this.resolver.ensureFresh(entry.carrier, plan.maxClaimAge);
    return resolving.then((resolution) => this.decideWithKey(context, plan, entry, resolution));
  }

  /** An API key (where the route takes them) stands in for a missing session. */
  private decideWithKey(
    context: ExecutionContext,
    plan: Plan,
    entry: SessionEntry,
    resolution: SessionResolution,
  ): boolean | Promise<boolean> {
    const keyed = this.withApiKey(context, entry, resolution);
    return keyed instanceof Promise
      ? keyed.then((found) => this.decideResolved(context, plan, entry, found))
      : this.decideResolved(context, plan, entry, keyed);
  }

  private decideResolved(
    context: ExecutionContext,
    plan: Plan,
    entry: SessionEntry,
    resolution: SessionResolution,
  ): boolean {
    // No credential at all on an optional route: through, unchecked. A bad one is still refused.
    if (plan.optional && !resolution.ok && resolution.failure.reason === 'NO_SESSION') {
      (context as Marked)[DECIDED] = true;
      return true;
    }
    return this.decideAll(context, plan, entry, this.sessionOf(context, resolution));
  }

  /** The route's requirements (class and method), read once per handler: metadata is fixed. */
  private planOf(context: ExecutionContext): Plan | undefined {
    const type = context.getClass();
    const handler = context.getHandler();
    let byHandler = plans.get(type);
    if (!byHandler) plans.set(type, (byHandler = new WeakMap()));
    if (byHandler.has(handler)) return byHandler.get(handler);
    const requirements = [
      this.reflector.get(FLAG_REQUIREMENT, type),
      this.reflector.get(FLAG_REQUIREMENT, handler),
    ].filter((r): r is FlagRequirement => r !== undefined);
    const access = [...accessRequirementsOf(type), ...accessRequirementsOf(handler)].sort(
      (a, b) => ACCESS_ORDER[a.kind] - ACCESS_ORDER[b.kind],
    );
    const ages = requirements.map((r) => r.maxClaimAge).filter((a): a is number => a !== undefined);
    const optional = this.reflector.getAllAndOverride(OPTIONAL_SESSION, [handler, type]) === true;
    const plan =
      requirements.length === 0 && access.length === 0
        ? undefined
        : {
            requirements,
            maxClaimAge: ages.length ? Math.min(...ages) : undefined,
            access,
            optional,
          };
    byHandler.set(handler, plan);
    return plan;
  }

  private decideAll(
    context: ExecutionContext,
    { requirements, maxClaimAge, access }: Plan,
    entry: SessionEntry,
    { session, stale }: { session: AuthKitSession; stale: boolean },
  ): boolean {
    const state = this.sources.stateOf(session, entry, stale, maxClaimAge);
    if (access.length > 0) {
      // Roles, permissions, the organization: no live source, so a stale claim cannot decide.
      // Stale here means after an access change (or `maxClaimAge`): a flag change leaves them.
      if (this.sources.isStale(session, state.refreshable, stale, maxClaimAge, 'access'))
        this.refuse(context, state.refreshable ? 'REFRESH_UNAVAILABLE' : 'STALE_CLAIMS', session);
      const now = Date.now() / 1000;
      const audited = this.audit.enabled;
      for (const requirement of access) {
        const outcome = checkAccess(
          requirement,
          session,
          context,
          now,
          this.config.clockToleranceSeconds,
        );
        if (audited) this.recordAccess(context, requirement, outcome, session);
        if (outcome.refusal) this.refuseAccess(context, outcome, session);
      }
    }
    for (const requirement of requirements) {
      const source = this.sources.choose(requirement, state);
      if (source !== 'claim' && source !== 'live') this.refuse(context, source, session);
      this.decide(context, requirement, session, entry, source, state.live);
    }
    (context as Marked)[DECIDED] = true;
    return true;
  }

  /** Neither the claim nor the live configuration can be trusted. */
  private refuse(
    context: ExecutionContext,
    why: FlagSourceUnavailable,
    session: AuthKitSession,
  ): never {
    if (why === 'STALE_CLAIMS') {
      // A Bearer token or a WebSocket connection: neither is refreshed here.
      return this.throwException(
        context,
        new AuthKitException({
          reason: 'STALE_CLAIMS',
          status: 401,
          detail: 'the token was issued before a flag change or its allowed age',
          headers:
            session.source === 'bearer'
              ? {
                  'WWW-Authenticate':
                    'Bearer error="invalid_token", error_description="claims are stale: refresh the token"',
                }
              : {},
        }),
      );
    }
    return this.throwException(
      context,
      new AuthKitException({
        reason: why,
        status: 503,
        detail:
          why === 'FLAGS_UNAVAILABLE'
            ? 'live flag configuration unavailable'
            : 'stale session could not be refreshed',
        headers: { 'Retry-After': '1' },
      }),
    );
  }

  private decide(
    context: ExecutionContext,
    { flags, mode, deniedStatus, targets }: FlagRequirement,
    session: AuthKitSession,
    entry: SessionEntry,
    source: 'claim' | 'live',
    checkLive: boolean,
  ): void {
    const claims = session.featureFlags;
    // Built only when the live configuration is asked: the claim path allocates nothing.
    const subject: FlagContext | undefined = checkLive
      ? flagContext(
          session,
          targets && source === 'live'
            ? usableTargets(targets(session, entry.carrier.req, context))
            : undefined,
        )
      : undefined;
    const missing: string[] = [];
    for (const flag of flags) {
      const claim = claims.includes(flag);
      const live = subject ? this.live.evaluate(flag, subject).value : claim;
      // The claim never holds custom targets: a difference there is not drift.
      if (subject && subject.targets === undefined) {
        this.drift.observe(flag, claim, live, {
          sid: session.sessionId,
          iat: session.claims.iat,
          org: session.organizationId,
        });
      }
      if (!(source === 'live' ? live : claim)) missing.push(flag);
    }
    const allowed = mode === 'any' ? missing.length < flags.length : missing.length === 0;
    this.metrics.flagDecision(source, allowed);
    // Why the decision went this way, never the token itself (built only when it goes somewhere).
    if (this.audit.enabled)
      this.recordDecision(context, flags, mode, source, missing, allowed, session, subject);
    if (allowed) return;
    const detail = `feature flag${flags.length > 1 ? 's' : ''} not enabled for this session`;
    const status = deniedStatus ?? this.config.flagDeniedStatus;
    const { path, method } = routeOf(context);
    this.throwException(
      context,
      new AuthKitException({
        reason: 'FLAG_DISABLED',
        status,
        detail,
        extra: { flags: mode === 'any' ? flags : missing, mode, source },
        // 404 hides that the feature exists: the body is a plain "not found".
        ...(status === 404
          ? {
              body: {
                message: `Cannot ${method ?? 'GET'} ${path}`,
                error: 'Not Found',
                statusCode: 404,
              },
            }
          : {}),
      }),
    );
  }

  private refuseAccess(
    context: ExecutionContext,
    outcome: AccessOutcome,
    session: AuthKitSession,
  ): never {
    const { reason, status, detail } = outcome.refusal!;
    const maxAge = reason === 'RECENT_AUTH_REQUIRED' ? Number(outcome.required[0]) : undefined;
    return this.throwException(
      context,
      new AuthKitException({
        reason,
        status,
        detail,
        extra:
          maxAge !== undefined
            ? { maxAge }
            : outcome.missing.length > 0
              ? { missing: outcome.missing }
              : {},
        // RFC 9470: a Bearer client learns it must have the user sign in again.
        headers:
          maxAge !== undefined && session.source === 'bearer'
            ? {
                'WWW-Authenticate': `Bearer error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age=${maxAge}`,
              }
            : {},
      }),
    );
  }

  private recordAccess(
    context: ExecutionContext,
    requirement: AccessRequirement,
    outcome: AccessOutcome,
    session: AuthKitSession,
  ): void {
    const { route, path } = routeOf(context);
    this.audit.record({
      event: 'access_decision',
      allowed: outcome.allowed,
      check: requirement.kind,
      claim: outcome.claim,
      required: outcome.required,
      missing: outcome.missing,
      ...(outcome.refusal ? { reason: outcome.refusal.reason } : {}),
      iat: session.claims.iat,
      sid: session.sessionId,
      user: session.userId,
      org: session.organizationId ?? null,
      ...(session.impersonatorId ? { impersonator: session.impersonatorId } : {}),
      route,
      path,
      at: new Date().toISOString(),
    });
  }

  private recordDecision(
    context: ExecutionContext,
    flags: string[],
    mode: 'all' | 'any',
    source: 'claim' | 'live',
    missing: string[],
    allowed: boolean,
    session: AuthKitSession,
    subject: FlagContext | undefined,
  ): void {
    const { route, path } = routeOf(context);
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
      ...(session.impersonatorId ? { impersonator: session.impersonatorId } : {}),
      ...(subject?.targets ? { targets: subject.targets } : {}),
      route,
      path,
      at: new Date().toISOString(),
    });
  }
}

/**
 * The guard `@RequireFlag` brought before it decided every access check: the same class.
 *
 * @example
 * ```ts
 * @UseGuards(FlagGuard) // as @UseGuards(AccessGuard)
 * ```
 */
export { AccessGuard as FlagGuard };
