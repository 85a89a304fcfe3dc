import { Body, Controller, Get, Header, HttpCode, Inject, Optional, Post } from '@nestjs/common';
import type { WorkOS } from '@workos-inc/node';
import {
  CurrentSession,
  RequireOrganization,
  RequireRecentAuth,
  WORKOS_CLIENT,
  type AuthKitSession,
} from 'nestjs-authkit';
import { DEMO, type Demo } from './demo.js';
import { esc, page } from './html.js';

/** How recent a sign-in the security page asks for: five minutes. */
export const SECURITY_MAX_AGE = 300;

/**
 * "Security settings": creating an API key for the organization is sensitive, so the page and
 * the form it posts need a sign-in within the last five minutes. Refused, a browser is shown
 * the way back through `/auth/login?maxAge=…` (HtmlErrorsFilter): WorkOS then asks the user to
 * authenticate again. The form posts to the page's own path, so that way back is the page.
 */
@Controller('security')
@RequireOrganization()
@RequireRecentAuth({ maxAge: SECURITY_MAX_AGE })
export class SecurityController {
  constructor(
    @Inject(WORKOS_CLIENT) private readonly workos: WorkOS,
    @Optional() @Inject(DEMO) private readonly demo?: Demo,
  ) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  show(@CurrentSession() session: AuthKitSession): string {
    return securityPage(session);
  }

  @Post()
  @HttpCode(201)
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async createApiKey(
    @CurrentSession() session: AuthKitSession,
    @Body() body: { name?: unknown } | undefined,
  ): Promise<string> {
    const name =
      typeof body?.name === 'string' && body.name.trim()
        ? body.name.trim().slice(0, 64)
        : 'Sample key';
    const value = await this.newKey(session.organizationId!, name);
    return securityPage(
      session,
      `<p class="box">New key <b>${esc(name)}</b>, shown once: <code data-testid="api-key-value">${esc(value)}</code></p>`,
    );
  }

  /** In demo mode the emulator mints it (it serves no key-creation API); else WorkOS does. */
  private async newKey(organizationId: string, name: string): Promise<string> {
    if (this.demo) {
      return this.demo.emulator.createApiKey({
        owner: { type: 'organization', id: organizationId },
        name,
      }).value;
    }
    const created = await this.workos.apiKeys.createOrganizationApiKey({ organizationId, name });
    return created.value;
  }
}

function securityPage(session: AuthKitSession, created = ''): string {
  const authTime = session.claims.auth_time;
  const signedIn =
    authTime === undefined
      ? 'unknown'
      : `${new Date(authTime * 1000).toISOString().slice(11, 19)} UTC, ${Math.floor(Date.now() / 1000) - authTime} s ago`;
  return page(
    'Security settings',
    `<h1 data-testid="security-title">Security settings</h1>
<p>You are in because you signed in within the last ${SECURITY_MAX_AGE / 60} minutes
(<code>auth_time</code>: <span data-testid="auth-time">${esc(signedIn)}</span>).</p>
${created}
<form method="post" action="/security">
<label>New API key for <code data-testid="security-org">${esc(session.organizationId)}</code>:
<input name="name" value="CI" data-testid="api-key-name"></label>
<button type="submit" data-testid="create-api-key">Create API key</button>
</form>
<p><a href="/">Back</a></p>`,
  );
}
