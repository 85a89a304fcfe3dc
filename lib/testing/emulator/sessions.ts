/*
 * The sessions the emulator issued (one per sign-in, kept across refreshes: the token's `sid`),
 * and their wire shape in WorkOS's API and `session.*` events.
 */

/** Who impersonates the user (a WorkOS Dashboard user), as WorkOS's session carries it. */
export interface EmulatorImpersonator {
  email: string;
  reason: string | null;
}

/**
 * One issued session. `organizationId` follows the session's latest token (a refresh may switch
 * it); a revoked session's refresh token answers `invalid_grant`.
 *
 * @example
 * const [first] = emulator.sessions();
 * if (first?.status === 'active') emulator.revokeSession(first.id);
 */
export interface EmulatorSessionInfo {
  id: string;
  userId: string;
  organizationId?: string;
  impersonator?: EmulatorImpersonator;
  status: 'active' | 'revoked';
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
}

/** How long a session lives in `expires_at` (WorkOS's default maximum session length). */
const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * The session as `session.created` / `session.revoked` events and WorkOS's API carry it.
 *
 * @example
 * const data = sessionData(info); // { object: 'session', id: info.id, status: 'revoked', ... }
 */
export function sessionData(session: EmulatorSessionInfo) {
  return {
    object: 'session' as const,
    id: session.id,
    user_id: session.userId,
    ...(session.organizationId !== undefined ? { organization_id: session.organizationId } : {}),
    ...(session.impersonator ? { impersonator: { ...session.impersonator } } : {}),
    ip_address: '127.0.0.1',
    user_agent: null,
    auth_method: session.impersonator ? 'impersonation' : 'password',
    status: session.status,
    expires_at: new Date(Date.parse(session.createdAt) + SESSION_LIFETIME_MS).toISOString(),
    ended_at: session.endedAt,
    created_at: session.createdAt,
    updated_at: session.updatedAt,
  };
}
