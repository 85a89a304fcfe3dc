import type { EmulatorImpersonator } from './sessions.js';

/*
 * What a code or refresh token stands for: the sign-in it continues. The emulator issues tokens
 * from a grant; the token endpoint (`POST /user_management/authenticate`) redeems them.
 */

/**
 * One sign-in's identity, kept across refreshes (the token's `sub`, `org_id`, `sid`, `auth_time`).
 *
 * @example
 * const grant: Grant = { userId: 'user_a', organizationId: 'org_1', sessionId: 'session_1' };
 */
export interface Grant {
  userId: string;
  organizationId?: string;
  sessionId: string;
  /** Unix seconds of the sign-in: `auth_time`, which a refresh never moves (WorkOS). */
  authTime?: number;
  impersonator?: EmulatorImpersonator;
}

/** An authorization code's grant, bound to its PKCE challenge when the sign-in sent one. */
export type CodeGrant = Grant & { codeChallenge?: string };

/** A refresh token's grant; `used` once redeemed (refresh tokens are single-use). */
export type RefreshGrant = Grant & { used: boolean };
