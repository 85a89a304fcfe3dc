/*
 * The sessions the emulator issued (one per sign-in, kept across refreshes: the token's `sid`),
 * and their wire shape in WorkOS's API and `session.*` events.
 */

/**
 * Who impersonates the user (a WorkOS Dashboard user), as WorkOS's session carries it.
 *
 * @example
 * const session = await emulator.createSession({
 *   userId: 'user_a',
 *   impersonator: { email: 'support@example.test', reason: 'ticket 42' },
 * });
 */
export interface EmulatorImpersonator {
  /** The dashboard user's email. */
  email: string;
  /** The reason they gave, or null. */
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
  /** The session id (the tokens' `sid`). */
  id: string;
  /** Whose session it is. */
  userId: string;
  /** The organization of its latest token, if any. */
  organizationId?: string;
  /** Set for an impersonation session. */
  impersonator?: EmulatorImpersonator;
  /** `revoked` after `revokeSession()`, WorkOS's revoke API or a sign-out. */
  status: 'active' | 'revoked';
  /** When it was created (ISO 8601). */
  createdAt: string;
  /** When it last changed (ISO 8601). */
  updatedAt: string;
  /** When it was revoked (ISO 8601), or null while active. */
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
