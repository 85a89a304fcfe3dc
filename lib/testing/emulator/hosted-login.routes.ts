import { html, redirect } from './http.js';
import { errorPage, loginPage, type PageWorld } from './pages.js';
import type { Route } from './route-table.js';

/** What the hosted login needs: the client's settings, who may sign in where, and codes. */
export interface HostedLoginContext {
  clientId: string;
  /** When set, the only `redirect_uri`s accepted (as WorkOS does). */
  redirectUris?: string[];
  world(): PageWorld;
  hasUser(userId: string): boolean;
  /** An active membership (only those can be signed into). */
  isMember(userId: string, organizationId: string): boolean;
  /** Issues a code as `WorkOSEmulator.issueCode()` does. */
  issueCode(input: {
    userId: string;
    organizationId?: string;
    codeChallenge?: string;
    authTime?: number;
  }): string;
  /** The `auth_time` of the WorkOS session the sign-in reuses, if any, given `max_age`. */
  hostedSignIn(maxAge: string | null): number | undefined;
}

/**
 * The hosted login: `GET /user_management/authorize` shows one button per (user, organization);
 * each posts to `/user_management/authorize/complete`, which redirects to the app with a code.
 * Both check the authorization request the same way. No authentication: a loopback test tool.
 *
 * @example
 * bindRoutes(hostedLoginRoutes, context);
 */
export const hostedLoginRoutes: readonly Route<HostedLoginContext>[] = [
  {
    method: 'GET',
    path: '/user_management/authorize',
    handler: ({ res, url }, context) => {
      const params = url.searchParams;
      const problem = checkAuthorize(params, context);
      if (problem) return html(res, 400, errorPage(problem));
      html(
        res,
        200,
        loginPage(context.world(), params, {
          signUp: params.get('screen_hint') === 'sign-up',
          organizationId: params.get('organization_id') ?? undefined,
          loginHint: params.get('login_hint') ?? undefined,
        }),
      );
    },
  },
  {
    method: 'POST',
    path: '/user_management/authorize/complete',
    handler: ({ res, form }, context) => {
      const problem = checkAuthorize(form, context);
      if (problem) return html(res, 400, errorPage(problem));
      const userId = form.get('user_id') ?? '';
      const organizationId = form.get('organization_id') || undefined;
      if (!context.hasUser(userId)) return html(res, 400, errorPage('unknown user'));
      if (organizationId && !context.isMember(userId, organizationId)) {
        return html(res, 400, errorPage('not a member of that organization'));
      }
      const code = context.issueCode({
        userId,
        organizationId,
        codeChallenge: form.get('code_challenge') ?? undefined,
        authTime: context.hostedSignIn(form.get('max_age')),
      });
      const target = new URL(form.get('redirect_uri')!);
      target.searchParams.set('code', code);
      const state = form.get('state');
      if (state) target.searchParams.set('state', state);
      redirect(res, 302, target.href);
    },
  },
];

/** Why an authorization request is refused, or undefined when it is fine. */
function checkAuthorize(
  params: URLSearchParams,
  { clientId, redirectUris }: HostedLoginContext,
): string | undefined {
  if (params.get('client_id') !== clientId) return 'unknown client_id';
  if (params.get('response_type') !== 'code') return 'response_type must be code';
  const provider = params.get('provider');
  if (provider !== null && provider !== 'authkit') return 'only provider=authkit is emulated';
  const redirectUri = params.get('redirect_uri') ?? '';
  let parsed: URL | undefined;
  try {
    parsed = new URL(redirectUri);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    return 'redirect_uri must be an absolute http(s) URL';
  }
  if (redirectUris && !redirectUris.includes(redirectUri)) {
    return 'redirect_uri is not allowed for this client';
  }
  const method = params.get('code_challenge_method');
  if (params.get('code_challenge') && method !== 'S256') {
    return 'code_challenge_method must be S256';
  }
  return undefined;
}
