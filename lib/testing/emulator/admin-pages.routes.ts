import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorFlag } from './flag-model.js';
import { html, isCrossSite, redirect } from './http.js';
import { errorPage, flagsPage, indexPage, membersPage, type PageWorld } from './pages.js';
import type { Route } from './route-table.js';
import type { EmulatorSessionInfo } from './sessions.js';

/** What the admin pages need: the world they show, and the member and session changes they make. */
export interface AdminPagesContext {
  world(): PageWorld;
  flags(): EmulatorFlag[];
  sessions(): EmulatorSessionInfo[];
  hasMembership(userId: string, organizationId: string): boolean;
  /** Sets the membership's one role as `WorkOSEmulator.setMembership()` does (event included). */
  setRole(userId: string, organizationId: string, role: string): void;
  hasSession(sessionId: string): boolean;
  /** Revokes as `WorkOSEmulator.revokeSession()` does (event included). */
  revokeSession(sessionId: string): boolean;
}

/**
 * The admin pages under `/_emulator` (index, flags, members) and the members page's forms.
 * No authentication: the emulator is a loopback test tool. The flags page's form posts are
 * feature-flag routes (feature-flags.routes.ts).
 *
 * @example
 * bindRoutes(adminPagesRoutes, context);
 */
export const adminPagesRoutes: readonly Route<AdminPagesContext>[] = [
  {
    method: 'GET',
    path: '/_emulator',
    handler: ({ res }, { world }) => html(res, 200, indexPage(world())),
  },
  {
    method: 'GET',
    path: '/_emulator/flags',
    handler: ({ res }, { world, flags }) => html(res, 200, flagsPage(world(), flags())),
  },
  {
    method: 'GET',
    path: '/_emulator/members',
    handler: ({ res }, { world, sessions }) => html(res, 200, membersPage(world(), sessions())),
  },
  {
    // The members page's role form: one role replaces the membership's roles.
    method: 'POST',
    path: '/_emulator/members/role',
    handler: ({ res, form }, { hasMembership, setRole }) => {
      const userId = form.get('user_id') ?? '';
      const organizationId = form.get('organization_id') ?? '';
      const role = form.get('role') ?? '';
      if (!hasMembership(userId, organizationId)) {
        return html(
          res,
          400,
          errorPage(`${userId} is not a member of ${organizationId}`, 'Cannot change the role'),
        );
      }
      if (!/^[\w:.-]{1,100}$/.test(role)) {
        return html(res, 400, errorPage(`invalid role slug "${role}"`, 'Cannot change the role'));
      }
      setRole(userId, organizationId, role);
      redirect(res, 303, '/_emulator/members');
    },
  },
  {
    method: 'POST',
    path: '/_emulator/sessions/revoke',
    handler: ({ res, form }, { hasSession, revokeSession }) => {
      const sessionId = form.get('session_id') ?? '';
      if (!hasSession(sessionId)) {
        return html(res, 400, errorPage(`unknown session ${sessionId}`, 'Cannot revoke'));
      }
      revokeSession(sessionId);
      redirect(res, 303, '/_emulator/members');
    },
  },
];

/**
 * Refuses (403 page) a browser's cross-site POST to any `/_emulator/` path, before routing: a
 * page on another site must not drive the admin forms (CSRF); browsers send `Origin`.
 * True when it answered.
 *
 * @example
 * if (refuseCrossSitePost(req, method, path, res)) return;
 */
export function refuseCrossSitePost(
  req: IncomingMessage,
  method: string,
  path: string,
  res: ServerResponse,
): boolean {
  if (method !== 'POST' || !path.startsWith('/_emulator/') || !isCrossSite(req)) return false;
  html(res, 403, errorPage('cross-site form posts are refused', 'Refused'));
  return true;
}
