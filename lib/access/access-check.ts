import type { ExecutionContext } from '@nestjs/common';
import type { AccessRefusalReason } from '../context/authkit-reason.js';
import type { AuthKitTransport } from '../context/carrier.js';
import type { AuthKitSession } from '../session/session.types.js';
import type { AccessRequirement } from './access-requirement.js';

/** One check's answer: what it read (the claim) and, when refused, why. */
export interface AccessOutcome {
  allowed: boolean;
  /** The token claim that decided: `permissions`, `roles`, `org_id`, `act`, `auth_time` … */
  claim: string;
  /** What the route asked for (slugs, the tenant, the max age). */
  required: readonly string[];
  /** For lists: the slugs the token lacks (all of them for a refused `any`). */
  missing: readonly string[];
  refusal?: { reason: AccessRefusalReason; status: 401 | 403; detail: string };
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * Decides one requirement for a verified session. Pure, but for the route's tenant, which it
 * reads from the context (route parameter, GraphQL argument, WebSocket message field).
 */
export function checkAccess(
  requirement: AccessRequirement,
  session: AuthKitSession,
  context: ExecutionContext,
  nowSeconds: number,
  clockToleranceSeconds: number,
): AccessOutcome {
  switch (requirement.kind) {
    case 'permission':
      return listCheck(requirement.slugs, requirement.mode, session.permissions, 'permissions', {
        reason: 'PERMISSION_DENIED',
        what: 'permission',
      });
    case 'entitlement':
      return listCheck(requirement.slugs, requirement.mode, session.entitlements, 'entitlements', {
        reason: 'ENTITLEMENT_REQUIRED',
        what: 'entitlement',
      });
    case 'role':
      return listCheck(requirement.slugs, 'any', session.roles, 'roles', {
        reason: 'ROLE_REQUIRED',
        what: 'role',
      });
    case 'organization':
      return organizationCheck(requirement, session, context);
    case 'credential':
      return requirement.kinds.includes(session.source)
        ? { allowed: true, claim: 'source', required: requirement.kinds, missing: NONE }
        : {
            allowed: false,
            claim: 'source',
            required: requirement.kinds,
            missing: NONE,
            refusal: {
              reason: 'CREDENTIAL_NOT_ALLOWED',
              status: 403,
              detail: `this needs a ${requirement.kinds.join(' or ')} credential, not ${session.source}`,
            },
          };
    case 'no-impersonation':
      return session.impersonatorId === undefined
        ? { allowed: true, claim: 'act', required: NONE, missing: NONE }
        : {
            allowed: false,
            claim: 'act',
            required: NONE,
            missing: NONE,
            refusal: {
              reason: 'IMPERSONATION_DENIED',
              status: 403,
              detail: 'not allowed while impersonating a user',
            },
          };
    case 'recent-auth': {
      const authTime = session.claims.auth_time;
      // No `auth_time`: when the user signed in is unknown, so not recently (fail closed); one
      // in the future beyond the clock tolerance is no sign-in at all.
      const recent =
        typeof authTime === 'number' &&
        nowSeconds - authTime <= requirement.maxAge &&
        authTime <= nowSeconds + clockToleranceSeconds;
      const required = [String(requirement.maxAge)];
      return recent
        ? { allowed: true, claim: 'auth_time', required, missing: NONE }
        : {
            allowed: false,
            claim: 'auth_time',
            required,
            missing: NONE,
            refusal: {
              reason: 'RECENT_AUTH_REQUIRED',
              status: 401,
              detail: `sign in again: this needs a sign-in within the last ${requirement.maxAge} s`,
            },
          };
    }
    case 'claim': {
      let passed = false;
      try {
        passed = requirement.test(session.claims[requirement.name], session) === true;
      } catch {
        // A throwing predicate refuses: an access check never fails open.
      }
      return passed
        ? { allowed: true, claim: requirement.name, required: NONE, missing: NONE }
        : {
            allowed: false,
            claim: requirement.name,
            required: NONE,
            missing: NONE,
            refusal: {
              reason: 'CLAIM_REQUIRED',
              status: 403,
              detail: `the token's ${requirement.name} claim does not allow this`,
            },
          };
    }
  }
}

function listCheck(
  slugs: readonly string[],
  mode: 'all' | 'any',
  held: readonly string[],
  claim: string,
  { reason, what }: { reason: AccessRefusalReason; what: string },
): AccessOutcome {
  let missing: string[] | undefined;
  for (const slug of slugs) if (!held.includes(slug)) (missing ??= []).push(slug);
  const allowed = missing === undefined || (mode === 'any' && missing.length < slugs.length);
  if (allowed) return { allowed, claim, required: slugs, missing: missing ?? NONE };
  const plural = slugs.length > 1;
  return {
    allowed,
    claim,
    required: slugs,
    missing: missing ?? NONE,
    refusal: {
      reason,
      status: 403,
      detail:
        mode === 'any' && plural
          ? `one of these ${what}s is required: ${slugs.join(', ')}`
          : `${what}${missing!.length > 1 ? 's' : ''} required: ${missing!.join(', ')}`,
    },
  };
}

function organizationCheck(
  requirement: Extract<AccessRequirement, { kind: 'organization' }>,
  session: AuthKitSession,
  context: ExecutionContext,
): AccessOutcome {
  const org = session.organizationId;
  if (org === undefined) {
    return {
      allowed: false,
      claim: 'org_id',
      required: NONE,
      missing: NONE,
      refusal: {
        reason: 'ORGANIZATION_REQUIRED',
        status: 403,
        detail: 'this needs a session in an organization: switch to one first',
      },
    };
  }
  if (requirement.param === undefined && requirement.tenantOf === undefined) {
    return { allowed: true, claim: 'org_id', required: NONE, missing: NONE };
  }
  const tenant = requirement.tenantOf
    ? requirement.tenantOf(context)
    : argumentOf(context, requirement.param!);
  // A tenant the request does not name is not the token's: refused, never assumed.
  if (typeof tenant === 'string' && tenant === org) {
    return { allowed: true, claim: 'org_id', required: [tenant], missing: NONE };
  }
  return {
    allowed: false,
    claim: 'org_id',
    required: typeof tenant === 'string' ? [tenant] : NONE,
    missing: NONE,
    refusal: {
      reason: 'ORGANIZATION_MISMATCH',
      status: 403,
      detail: "the request's organization is not the session's: switch organization first",
    },
  };
}

/**
 * A named argument of the request: the route parameter over HTTP, the field argument in
 * GraphQL, the message's field over WebSockets.
 */
export function argumentOf(context: ExecutionContext, name: string): unknown {
  // Argument positions, as switchToHttp()/switchToWs() read them, without their allocations.
  let holder: unknown;
  switch (context.getType<AuthKitTransport>()) {
    case 'http':
      holder = context.getArgByIndex<{ params?: unknown } | undefined>(0)?.params;
      break;
    case 'graphql': // (root, args, context, info)
    case 'ws': // (client, data)
      holder = context.getArgByIndex<unknown>(1);
      break;
    default:
      holder = context.getArgByIndex<unknown>(0);
  }
  return typeof holder === 'object' && holder !== null && Object.hasOwn(holder, name)
    ? (holder as Record<string, unknown>)[name]
    : undefined;
}
