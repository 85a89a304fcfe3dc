import { createHash } from 'node:crypto';
import type { membershipData, MembershipRecord } from './access-model.js';
import type { CodeGrant, Grant, RefreshGrant } from './grants.js';
import { json, redirect } from './http.js';
import type { EmulatorRequest, Route } from './route-table.js';

/** What the user management routes need: grants, sessions, memberships and users. */
export interface UserManagementContext {
  clientId: string;
  apiKey: string;
  calls: { invalidGrant: number; refreshSpent: number };
  /** Unredeemed authorization codes (single-use). */
  codes: Map<string, CodeGrant>;
  refreshTokens: Map<string, RefreshGrant>;
  /** Revoked session ids: their refresh tokens answer `invalid_grant`. */
  revoked: Set<string>;
  /** An active membership (only those can be refreshed into). */
  isMember(userId: string, organizationId: string): boolean;
  /** The organization a refresh without `organization_id` lands in. */
  defaultOrganization(userId: string): string | undefined;
  /** Issues tokens for the grant (the token endpoint's answer, snake_case). */
  issue(grant: Grant): Promise<object>;
  hasSession(sessionId: string): boolean;
  /** Revokes as `WorkOSEmulator.revokeSession()` does (event included). */
  revokeSession(sessionId: string): boolean;
  /** In seed order; the membership list pages by it. */
  memberships: readonly MembershipRecord[];
  membershipData(membership: MembershipRecord): ReturnType<typeof membershipData>;
  /** The user in WorkOS's wire shape, or undefined. */
  userData(userId: string): object | undefined;
}

/**
 * User management: the token endpoint (code and refresh grants), sign-out, session revocation,
 * the membership list and users, as the SDK calls them.
 *
 * @example
 * bindRoutes(userManagementRoutes, context);
 */
export const userManagementRoutes: readonly Route<UserManagementContext, 'authenticate'>[] = [
  {
    method: 'POST',
    path: '/user_management/authenticate',
    fault: 'authenticate',
    handler: authenticate,
  },
  {
    method: 'GET',
    path: '/user_management/sessions/logout',
    handler: ({ res, url }, { revoked, revokeSession }) => {
      // Sign-out ends the session here as revokeSession() does, session.revoked included;
      // whether real WorkOS sends session.revoked on logout is unverified.
      const sessionId = url.searchParams.get('session_id');
      if (sessionId) {
        revoked.add(sessionId);
        revokeSession(sessionId);
      }
      const returnTo = url.searchParams.get('return_to');
      if (returnTo) return redirect(res, 302, returnTo);
      return json(res, 200, { ok: true });
    },
  },
  {
    method: 'GET',
    path: '/user_management/organization_memberships',
    apiKey: true,
    handler: listMemberships,
  },
  {
    method: 'POST',
    path: '/user_management/sessions/revoke',
    apiKey: true,
    handler: ({ res, body }, { hasSession, revokeSession }) => {
      const sessionId = body.session_id;
      if (typeof sessionId !== 'string' || sessionId === '') {
        return json(res, 422, { message: 'session_id is required' });
      }
      if (!hasSession(sessionId)) return json(res, 404, { message: 'Not found' });
      revokeSession(sessionId);
      return json(res, 200, { success: true });
    },
  },
  {
    method: 'GET',
    path: /^\/user_management\/users\/(?<id>[^/]+)$/,
    handler: ({ res, params }, { userData }) => {
      const user = userData(params.id!);
      return user ? json(res, 200, user) : json(res, 404, { message: 'Not found' });
    },
  },
];

/**
 * The token endpoint: the client's credentials, then a code (PKCE-checked, single-use) or a
 * refresh token (single-use, rotated; into `organization_id` only for an active membership).
 */
async function authenticate({ res, body }: EmulatorRequest, context: UserManagementContext) {
  if (body.client_id !== context.clientId || body.client_secret !== context.apiKey) {
    return json(res, 401, { error: 'invalid_client', error_description: 'bad client' });
  }
  let grant: Grant;
  if (body.grant_type === 'authorization_code') {
    const code = typeof body.code === 'string' ? context.codes.get(body.code) : undefined;
    if (!code) return invalidGrant(res, context, 'code invalid or used');
    context.codes.delete(body.code as string);
    if (code.codeChallenge !== undefined) {
      const verifier = typeof body.code_verifier === 'string' ? body.code_verifier : '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (challenge !== code.codeChallenge) return invalidGrant(res, context, 'PKCE mismatch');
    }
    grant = code;
  } else if (body.grant_type === 'refresh_token') {
    const token = typeof body.refresh_token === 'string' ? body.refresh_token : '';
    const stored = context.refreshTokens.get(token);
    if (!stored || stored.used || context.revoked.has(stored.sessionId)) {
      return invalidGrant(res, context, 'refresh token invalid or already used');
    }
    const requested = typeof body.organization_id === 'string' ? body.organization_id : undefined;
    if (requested && !context.isMember(stored.userId, requested)) {
      // Checked before the token is spent: asking for a foreign organization costs nothing.
      return invalidGrant(res, context, 'not a member of that organization');
    }
    stored.used = true;
    context.calls.refreshSpent++;
    grant = {
      userId: stored.userId,
      sessionId: stored.sessionId,
      organizationId: requested ?? context.defaultOrganization(stored.userId),
      authTime: stored.authTime,
      impersonator: stored.impersonator,
    };
  } else {
    return json(res, 400, { error: 'unsupported_grant_type' });
  }
  json(res, 200, await context.issue(grant));
}

function invalidGrant(
  res: EmulatorRequest['res'],
  { calls }: UserManagementContext,
  description: string,
): void {
  calls.invalidGrant++;
  json(res, 400, { error: 'invalid_grant', error_description: description });
}

/**
 * Memberships are all active and listed in seed order (the SDK asks for `order=desc`, which
 * over equal timestamps says nothing). `limit` (default 10, at most 100, as WorkOS) and the
 * membership-id cursors `after`/`before` page like the real list, so autoPagination works.
 */
function listMemberships({ res, url }: EmulatorRequest, context: UserManagementContext): void {
  const query = url.searchParams;
  const userId = query.get('user_id');
  const organizationId = query.get('organization_id');
  if (!userId && !organizationId) {
    return json(res, 422, { message: 'user_id or organization_id is required' });
  }
  const limitParam = query.get('limit');
  const limit = limitParam === null ? 10 : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    return json(res, 422, { message: 'limit must be an integer from 1 to 100' });
  }
  const statuses = query.get('statuses')?.split(',') ?? ['active'];
  const all = context.memberships
    .filter(
      (m) =>
        statuses.includes(m.status ?? 'active') &&
        (!userId || m.userId === userId) &&
        (!organizationId || m.organizationId === organizationId),
    )
    .map((m) => context.membershipData(m));
  const after = query.get('after');
  const before = query.get('before');
  let start = 0;
  let end = all.length;
  if (after) start = all.findIndex((m) => m.id === after) + 1;
  if (before) {
    const at = all.findIndex((m) => m.id === before);
    end = Math.max(0, at);
    if (!after) start = Math.max(0, end - limit);
  }
  end = Math.min(end, start + limit);
  const data = all.slice(start, end);
  json(res, 200, {
    object: 'list',
    data,
    list_metadata: {
      before: start > 0 && data.length ? data[0]!.id : null,
      after: end < all.length && data.length ? data[data.length - 1]!.id : null,
    },
  });
}
